"""Demo cross-check data for one county, spread over the last six months: every month a new version
of the data sets (rows hitting some of the county's households, and some decoys) and a rescreening
batch dated in that month; the county reviews most findings within the month they were raised and
leaves the current month's pending, so the dashboard and the review queue show a believable trend."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.utils import timezone
from stdnum.cn import ric

from audits import engine, services
from audits.models import REF_MODELS, Finding, FindingState, Novelty, RefKind, RefVersion
from cases.models import Member, Staff, Status
from dibao.models import Region, User
from reports.metrics import month_bounds, previous_month

DEMO_MONTHS = 6


def _new_version(kind: str, rows: list[dict], actor: User | None) -> RefVersion:
    RefVersion.objects.filter(kind=kind, is_current=True).update(is_current=False)
    no = (RefVersion.objects.filter(kind=kind).aggregate(n=Max("version_no"))["n"] or 0) + 1
    version = RefVersion.objects.create(kind=kind, version_no=no, is_current=True, row_count=len(rows),
                                        loaded_by=actor, file_name=f"{RefKind(kind).label}比对数据第{no}版.xlsx")
    model = REF_MODELS[kind]
    model.objects.bulk_create([model(version=version, **row) for row in rows])
    return version


def _outsider_id(rng: random.Random, county: str) -> str:
    body = f"{county}{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randrange(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def _batch_days(today: dt.date) -> list[dt.date]:
    """The day each demo batch runs: the 5th of each of the last DEMO_MONTHS months (today in the
    current month if it is not the 5th yet), oldest first."""
    firsts = [today.replace(day=1)]
    for _ in range(DEMO_MONTHS - 1):
        firsts.append(previous_month(firsts[-1]))
    return [min(first.replace(day=5), today) for first in reversed(firsts)]


def _review(finding: Finding, reviewer: User, on: dt.date, first_confirmed: bool) -> bool:
    """The county's decision on a finding, as a reviewer would make it on day `on`."""
    if finding.rule in ("DECEASED", "PUBLIC_PAYROLL"):
        # the fitting change: 减员 with the recomputed amount, or 退出 for a one-person household
        services.finding_confirm(actor=reviewer, finding=finding, reason="经入户核实，情况属实，办理变更",
                                 exit_on=on, exit_reason="不符合低保条件", stop_payment=not first_confirmed,
                                 recover_amount=None if first_confirmed else Decimal("1470.00"))
        return True
    reason = {"ASSET_VEHICLE": "车辆已于比对前过户，提供了过户证明"}.get(
        finding.rule, "经入户核实，已提供说明材料，不影响低保资格")
    services.finding_dismiss(actor=reviewer, finding=finding, reason=reason)
    return False


def seed(*, county: Region, users: dict[str, User], rng: random.Random) -> str:
    if RefVersion.objects.exists():
        return "audits: already seeded"
    actor = users.get("admin")
    reviewer = users.get("county_reviewer") or users.get("reviewer")
    active = list(Member.objects.filter(household__region__code__startswith=county.code,
                                        household__status=Status.ACTIVE).select_related("household")
                  .order_by("id")[:2000])
    others = list(Member.objects.filter(household__region__code__startswith=county.code,
                                        household__status__in=[Status.EXITED, Status.REJECTED])
                  .select_related("household").order_by("id")[:500])
    if len(active) < 30:
        return "audits: too few households in the demo county, nothing seeded"
    picks = rng.sample(active, 30)
    townships = list(Region.objects.filter(parent=county).values_list("code", flat=True)) or [county.code]
    villages = {t: list(Region.objects.filter(parent_id=t).values_list("code", flat=True)) for t in townships}
    today = timezone.localdate()

    def outsider(n: int) -> list[tuple[str, str, str]]:
        out = []
        for _ in range(n):
            town = rng.choice(townships)
            region = rng.choice(villages.get(town) or [town])
            out.append((_outsider_id(rng, county.code), rng.choice("王李张刘陈杨赵黄周吴") + rng.choice("秀英建国玉兰志强"),
                        region))
        return out

    data: dict[str, list[dict]] = {}
    data[RefKind.DEATHS] = [
        *({"id_number": m.id_number, "name": m.name, "death_date": today - dt.timedelta(days=rng.randint(40, 400))}
          for m in picks[0:4]),
        {"id_number": picks[4].id_number, "name": picks[4].name, "death_date": today - dt.timedelta(days=10)},
    ]
    data[RefKind.PAYROLL] = [{"id_number": m.id_number, "name": m.name, "employer": "县林业局"}
                             for m in picks[5:7]]
    data[RefKind.VEHICLES] = [
        {"id_number": picks[7].id_number, "plate_no": "吉A3K217", "vehicle_type": "小型轿车"},
        {"id_number": picks[8].id_number, "plate_no": "吉A7M902", "vehicle_type": "重型货车"},
        {"id_number": picks[9].id_number, "plate_no": "吉A0Z113", "vehicle_type": "三轮汽车"},  # exempt
    ]
    data[RefKind.BUSINESS] = [
        {"id_number": picks[10].id_number, "company_name": "农安县兴旺农资经销部", "status": "存续"},
        {"id_number": picks[11].id_number, "company_name": "农安县顺达运输有限公司", "status": "注销"},  # decoy
    ]
    home_owner = picks[12]
    data[RefKind.PROPERTY] = [
        {"id_number": home_owner.id_number, "unit_no": f"220122{n:03d}GB00001F0001", "usage": "住宅",
         "area": Decimal("86.50")} for n in (101, 102)
    ] + [{"id_number": picks[13].id_number, "unit_no": "220122103GB00002F0001", "usage": "住宅",
          "area": Decimal("64.00")}]
    staff = list(Staff.objects.filter(region__code__startswith=county.code)[:2])
    data[RefKind.KINSHIP] = [
        {"id_number_a": s.id_number, "id_number_b": picks[14 + i].id_number, "relation": rng.choice(["子女", "兄弟姐妹"])}
        for i, s in enumerate(staff)]
    disabled = outsider(6)
    data[RefKind.DISABILITY] = [
        *({"id_number": i, "name": n, "category": rng.choice(["肢体", "视力"]), "level": rng.choice([1, 2]),
           "region_code": r} for i, n, r in disabled[:4]),
        *({"id_number": i, "name": n, "category": "智力", "level": 3, "region_code": r} for i, n, r in disabled[4:5]),
        *({"id_number": i, "name": n, "category": "肢体", "level": 3, "region_code": r} for i, n, r in disabled[5:]),
        {"id_number": picks[16].id_number, "name": picks[16].name, "category": "肢体", "level": 1,
         "region_code": picks[16].household.region_id},  # in dibao already: information only
    ]
    data[RefKind.ILLNESS] = [{"id_number": i, "name": n, "disease": rng.choice(["尿毒症", "恶性肿瘤", "白血病"]),
                              "region_code": r} for i, n, r in outsider(4)]
    data[RefKind.POVERTY] = [
        *({"id_number": i, "name": n, "poverty_household_no": f"FP{rng.randint(10000, 99999)}", "region_code": r}
          for i, n, r in outsider(3)),
        *({"id_number": m.id_number, "name": m.name, "poverty_household_no": "", "region_code": ""}
          for m in others[:3]),
    ]

    # Each row joins the data in one of the months, the first death in the current one (still
    # pending review, and the payments demo plants a payment to that dead member).
    joined = {kind: [DEMO_MONTHS - 1 - (k + j) % DEMO_MONTHS for j in range(len(rows))]
              for k, (kind, rows) in enumerate(data.items())}
    batches, decided = [], 0
    days = _batch_days(today)
    for month, day in enumerate(days):
        for kind, rows in data.items():
            if month == 0 or month in joined[kind]:
                _new_version(kind, [row for row, m in zip(rows, joined[kind]) if m <= month], actor)
        batch = services.batch_create(actor=reviewer or "system", region_code=county.code, as_of=day,
                                      enqueue=False)
        batch = engine.execute_batch(batch.pk)
        batches.append(batch)
        if not reviewer or month == len(days) - 1:
            continue
        last = min(month_bounds(day)[1], today - dt.timedelta(days=1))
        # an overdue periodic review is the township's to do, not a county decision
        for finding in (batch.findings.filter(state=FindingState.PENDING, novelty=Novelty.NEW)
                        .exclude(rule="REVIEW_OVERDUE").order_by("id")):
            on = min(day + dt.timedelta(days=rng.randint(2, 20)), last)
            try:
                _review(finding, reviewer, on, first_confirmed=decided > 0)
            except (ValidationError, PermissionDenied):
                continue  # e.g. five-group findings go to the townships, or the reviewer must recuse
            # the decision as it was made that day, not at seeding time
            Finding.objects.filter(pk=finding.pk).update(
                decided_at=dt.datetime.combine(on, dt.time(10), tzinfo=dt.timezone(dt.timedelta(hours=8))))
            decided += 1
    pending = Finding.objects.filter(batch=batches[-1], state=FindingState.PENDING).count()
    return (f"audits: {len(data)} cross-check data sets over {len(days)} months, batches "
            f"#{batches[0].pk}…#{batches[-1].pk}, {decided} findings reviewed, {pending} pending")
