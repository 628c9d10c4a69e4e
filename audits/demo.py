"""Demo cross-check data for one county: a current version of every kind whose rows hit some of
the county's households (and some decoys), one rescreening batch, and a few review decisions."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from stdnum.cn import ric

from audits import engine, services
from audits.models import REF_MODELS, FindingState, RefKind, RefVersion
from cases.models import Member, Staff, Status
from dibao.models import Region, User


def _new_version(kind: str, rows: list[dict], actor: User | None) -> RefVersion:
    RefVersion.objects.filter(kind=kind, is_current=True).update(is_current=False)
    no = (RefVersion.objects.filter(kind=kind).aggregate(n=Max("version_no"))["n"] or 0) + 1
    version = RefVersion.objects.create(kind=kind, version_no=no, is_current=True, row_count=len(rows),
                                        loaded_by=actor, file_name=f"demo-{kind}.xlsx")
    model = REF_MODELS[kind]
    model.objects.bulk_create([model(version=version, **row) for row in rows])
    return version


def _outsider_id(rng: random.Random, county: str) -> str:
    body = f"{county}{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randrange(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


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
    today = dt.date.today()

    def outsider(n: int) -> list[tuple[str, str, str]]:
        out = []
        for _ in range(n):
            town = rng.choice(townships)
            region = rng.choice(villages.get(town) or [town])
            out.append((_outsider_id(rng, county.code), rng.choice("王李张刘陈杨赵黄周吴") + rng.choice("秀英建国玉兰志强"),
                        region))
        return out

    _new_version(RefKind.DEATHS, [
        *({"id_number": m.id_number, "name": m.name, "death_date": today - dt.timedelta(days=rng.randint(40, 400))}
          for m in picks[0:4]),
        {"id_number": picks[4].id_number, "name": picks[4].name, "death_date": today - dt.timedelta(days=10)},
    ], actor)
    _new_version(RefKind.PAYROLL, [{"id_number": m.id_number, "name": m.name, "employer": "县林业局"}
                                   for m in picks[5:7]], actor)
    _new_version(RefKind.VEHICLES, [
        {"id_number": picks[7].id_number, "plate_no": "吉A3K217", "vehicle_type": "小型轿车"},
        {"id_number": picks[8].id_number, "plate_no": "吉A7M902", "vehicle_type": "重型货车"},
        {"id_number": picks[9].id_number, "plate_no": "吉A0Z113", "vehicle_type": "三轮汽车"},  # exempt
    ], actor)
    _new_version(RefKind.BUSINESS, [
        {"id_number": picks[10].id_number, "company_name": "农安县兴旺农资经销部", "status": "存续"},
        {"id_number": picks[11].id_number, "company_name": "农安县顺达运输有限公司", "status": "注销"},  # decoy
    ], actor)
    home_owner = picks[12]
    _new_version(RefKind.PROPERTY, [
        {"id_number": home_owner.id_number, "unit_no": f"220122{n:03d}GB00001F0001", "usage": "住宅",
         "area": Decimal("86.50")} for n in (101, 102)
    ] + [{"id_number": picks[13].id_number, "unit_no": "220122103GB00002F0001", "usage": "住宅",
          "area": Decimal("64.00")}], actor)
    staff = list(Staff.objects.filter(region__code__startswith=county.code)[:2])
    _new_version(RefKind.KINSHIP, [
        {"id_number_a": s.id_number, "id_number_b": picks[14 + i].id_number, "relation": rng.choice(["子女", "兄弟姐妹"])}
        for i, s in enumerate(staff)], actor)
    disabled = outsider(6)
    _new_version(RefKind.DISABILITY, [
        *({"id_number": i, "name": n, "category": rng.choice(["肢体", "视力"]), "level": rng.choice([1, 2]),
           "region_code": r} for i, n, r in disabled[:4]),
        *({"id_number": i, "name": n, "category": "智力", "level": 3, "region_code": r} for i, n, r in disabled[4:5]),
        *({"id_number": i, "name": n, "category": "肢体", "level": 3, "region_code": r} for i, n, r in disabled[5:]),
        {"id_number": picks[16].id_number, "name": picks[16].name, "category": "肢体", "level": 1,
         "region_code": picks[16].household.region_id},  # in dibao already: information only
    ], actor)
    _new_version(RefKind.ILLNESS, [{"id_number": i, "name": n, "disease": rng.choice(["尿毒症", "恶性肿瘤", "白血病"]),
                                    "region_code": r} for i, n, r in outsider(4)], actor)
    _new_version(RefKind.POVERTY, [
        *({"id_number": i, "name": n, "poverty_household_no": f"FP{rng.randint(10000, 99999)}", "region_code": r}
          for i, n, r in outsider(3)),
        *({"id_number": m.id_number, "name": m.name, "poverty_household_no": "", "region_code": ""}
          for m in others[:3]),
    ], actor)

    batch = services.batch_create(actor=reviewer or "system", region_code=county.code, enqueue=False)
    batch = engine.execute_batch(batch.pk)
    pending = list(batch.findings.filter(state=FindingState.PENDING, rule__in=["DECEASED", "ASSET_VEHICLE",
                                                                               "PUBLIC_PAYROLL"]).order_by("id"))
    decided = 0
    for n, finding in enumerate(pending[:3] if reviewer else []):
        try:
            if n == 0:
                services.finding_confirm(actor=reviewer, finding=finding, reason="经入户核实，情况属实",
                                         stop_payment=True, recover_amount=Decimal("1470.00"))
            elif finding.rule == "ASSET_VEHICLE":
                services.finding_dismiss(actor=reviewer, finding=finding, reason="车辆已于比对前过户，提供了过户证明")
            else:
                services.finding_confirm(actor=reviewer, finding=finding, reason="核实属实，责令退出",
                                         exit_on=today, exit_reason="不符合低保条件")
        except (ValidationError, PermissionDenied):
            continue  # e.g. the demo reviewer must recuse: leave it pending
        decided += 1
    return (f"audits: 9 cross-check data sets, batch #{batch.pk} with {batch.total} findings, "
            f"{decided} reviewed")
