"""Reads of the audits app, already scoped to the user, and the contracts other apps call
(entry check, recusal, rollup metrics)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import catalogue
from audits import models as m
from audits import rules
from cases.models import Household, Member, RelativeFiling, Staff, StaffType, Status
from dibao import idnumber
from dibao.jobs import JobState
from dibao.models import Role, User
from dibao.summaries import shared_summary

# --- batches and findings ---------------------------------------------------------------------


def batches_for(user: User):
    """Batches inside the user's region, and those over a region that contains it
    (a province-wide batch is a county's batch too: its findings are scoped one by one)."""
    if user.scope_prefix is None:
        return m.RescreenBatch.objects.all()
    if not user.is_authenticated or user.scope_prefix == "\x00":
        return m.RescreenBatch.objects.none()
    prefix = user.scope_prefix
    containing = [prefix[:n] for n in (0, 2, 4, 6, 9) if n < len(prefix)]
    return m.RescreenBatch.objects.filter(Q(region_code__startswith=prefix) | Q(region_code__in=containing))


def latest_done_batch(user: User) -> m.RescreenBatch | None:
    return batches_for(user).filter(state=JobState.DONE).order_by("-id").first()


def findings_for(user: User):
    return m.Finding.objects.for_user(user).select_related("household", "batch")


def review_queue(user: User, *, batch_id=None, rule: str = "", township: str = "", state: str = "",
                 section: str = "A"):
    qs = findings_for(user)
    if batch_id:
        # a payment verification's findings belong to no batch: they stay in every batch's queue
        qs = qs.filter(Q(batch_id=batch_id) | Q(batch__isnull=True))
    if section:
        qs = qs.filter(rule__in=catalogue.codes_of_section(section))
    if rule:
        qs = qs.filter(rule=rule)
    if township:
        qs = qs.filter(region_code__startswith=township)
    if state:
        qs = qs.filter(state=state)
    return qs.annotate(severity=rule_severity()).order_by("severity", "region_code", "id")


def rule_severity(field: str = "rule") -> Case:
    """The rule's place in catalogue.SEVERITY, for ordering in SQL (most serious first)."""
    return Case(*[When(**{field: code}, then=Value(rank)) for code, rank in catalogue.RANK.items()],
                default=Value(len(catalogue.RANK)), output_field=IntegerField())


def finding_evidence(finding: m.Finding) -> dict:
    """The records behind a finding: the matching rows of each current cross-check set, and
    the registry facts (staff roster, filings, other households) for the person."""
    versions = rules.current_versions()
    ids = [finding.id_number] if finding.id_number else []
    if finding.household_id and catalogue.BY_CODE[finding.rule].per_household:
        ids = list(Member.objects.filter(household_id=finding.household_id).values_list("id_number", flat=True))
    evidence = []
    for kind, model in m.REF_MODELS.items():
        if kind not in versions:
            continue
        if kind == m.RefKind.KINSHIP:
            rows = list(model.objects.filter(Q(id_number_a__in=ids) | Q(id_number_b__in=ids),
                                             version_id=versions[kind][0])[:50])
        else:
            rows = list(model.objects.filter(version_id=versions[kind][0], id_number__in=ids)[:50])
        if rows:
            evidence.append({"kind": m.RefKind(kind).label, "version_no": versions[kind][1], "rows": rows,
                             "fields": [f for f in model._meta.concrete_fields if f.name not in ("id", "version")]})
    return {
        "ref": evidence,
        "staff": list(Staff.objects.filter(id_number__in=ids)),
        "filings": list(RelativeFiling.objects.filter(relative_id_number__in=ids).select_related("staff")),
        "other_households": list(Household.objects.filter(members__id_number__in=ids)
                                 .exclude(pk=finding.household_id).distinct()[:20]),
    }


# --- recusal (回避) ---------------------------------------------------------------------------


def is_recused(*, user, household: Household) -> bool:
    """True when the user's staff record is filed as, or kin to, a member of the household."""
    staff = Staff.objects.filter(user_id=getattr(user, "pk", None)).first()
    if staff is None:
        return False
    member_ids = list(Member.objects.filter(household=household).values_list("id_number", flat=True))
    if staff.id_number in member_ids:
        return True
    if RelativeFiling.objects.filter(Q(relative_id_number__in=member_ids) | Q(household=household),
                                     staff=staff).exists():
        return True
    return m.KinshipRecord.current().filter(
        Q(id_number_a=staff.id_number, id_number_b__in=member_ids)
        | Q(id_number_b=staff.id_number, id_number_a__in=member_ids)).exists()


# --- entry check (逢进必核) -------------------------------------------------------------------


@dataclass
class EntryWarning:
    rule: str
    id_number_masked: str
    name: str
    message: str
    level: str = "danger"  # danger: a rule of section A would flag it; info: a fact worth knowing
    id_number: str = field(default="", repr=False)


def _norm_ids(id_numbers) -> list[str]:
    seen = []
    for raw in id_numbers or []:
        value = idnumber.normalize_id(raw)
        if value and len(value) == 18 and value not in seen:
            seen.append(value)
    return seen


def entry_check(*, id_numbers: list[str], household_id: int | None = None) -> list[EntryWarning]:
    """The person-level rules of section A and the presence in each cross-check data set, for the
    people of one household being entered — a dozen indexed lookups, no batch needed."""
    ids = _norm_ids(id_numbers)
    if not ids:
        return []
    params = rules.current_params()
    versions = rules.current_versions()
    names: dict[str, str] = {}
    if household_id:
        names.update(Member.objects.filter(household_id=household_id, id_number__in=ids)
                     .values_list("id_number", "name"))
    out: list[EntryWarning] = []

    def warn(rule, id_number, message, name="", level="danger"):
        out.append(EntryWarning(rule=rule, id_number_masked=idnumber.mask_id(id_number),
                                name=names.get(id_number) or name, message=message, level=level,
                                id_number=id_number))

    def ref(kind):
        model = m.REF_MODELS[kind]
        if kind not in versions:
            return model.objects.none(), ""
        return model.objects.filter(version_id=versions[kind][0], id_number__in=ids), \
            f"{m.RefKind(kind).label}数据 v{versions[kind][1]}"

    rows, src = ref(m.RefKind.DEATHS)
    for r in rows:
        warn("DECEASED", r.id_number, _("%(src)s：死亡日期 %(d)s") % {"src": src, "d": r.death_date}, r.name)
    rows, src = ref(m.RefKind.PAYROLL)
    for r in rows:
        warn("PUBLIC_PAYROLL", r.id_number, _("%(src)s：工作单位 %(e)s") % {"src": src, "e": r.employer}, r.name)
    for s in Staff.objects.filter(id_number__in=ids):
        code = "PUBLIC_PAYROLL" if s.staff_type in (StaffType.PUBLIC_PAYROLL, StaffType.CIVIL_AFFAIRS) else "STAFF_SELF"
        warn(code, s.id_number, _("工作人员名册：%(t)s，工作单位 %(e)s") % {"t": s.get_staff_type_display(),
                                                                    "e": s.employer}, s.name)
    filed_pairs = set()
    for f in RelativeFiling.objects.filter(relative_id_number__in=ids).select_related("staff"):
        filed_pairs.add((f.staff.id_number, f.relative_id_number))
        warn("RELATIVE_FILED", f.relative_id_number,
             _("近亲属备案：备案人 %(s)s（%(t)s），关系 %(r)s") % {"s": f.staff.name, "t": f.staff.get_staff_type_display(),
                                                          "r": f.relation}, f.relative_name)
    if m.RefKind.KINSHIP in versions:
        kin = list(m.KinshipRecord.objects.filter(Q(id_number_a__in=ids) | Q(id_number_b__in=ids),
                                                  version_id=versions[m.RefKind.KINSHIP][0],
                                                  relation__in=rules.CLOSE_RELATIONS))
        others = {k.id_number_b if k.id_number_a in ids else k.id_number_a for k in kin}
        staff = {s.id_number: s for s in Staff.objects.filter(id_number__in=others)}
        filed = set(RelativeFiling.objects.filter(staff__id_number__in=staff, relative_id_number__in=ids)
                    .values_list("staff__id_number", "relative_id_number"))
        for k in kin:
            for member_id, staff_id, text in ((k.id_number_b, k.id_number_a, _("工作人员 %(s)s 的%(r)s")),
                                              (k.id_number_a, k.id_number_b, _("其%(r)s为工作人员 %(s)s"))):
                if member_id in ids and staff_id in staff and (staff_id, member_id) not in filed:
                    warn("RELATIVE_UNFILED", member_id,
                         _("户籍亲属关系数据 v%(v)s：") % {"v": versions[m.RefKind.KINSHIP][1]}
                         + text % {"s": staff[staff_id].name, "r": k.relation} + _("，无近亲属备案"))
    dup = (Member.objects.filter(id_number__in=ids, household__status=Status.ACTIVE)
           .select_related("household"))
    if household_id:
        dup = dup.exclude(household_id=household_id)
    for mem in dup:
        warn("DUPLICATE", mem.id_number, _("已是在保家庭 %(no)s 的成员") % {"no": mem.household.household_no},
             mem.name)
    rows, src = ref(m.RefKind.VEHICLES)
    for r in rows.exclude(vehicle_type__in=params["VEHICLE_EXEMPT_TYPES"]):
        warn("ASSET_VEHICLE", r.id_number, _("%(src)s：号牌 %(p)s（%(t)s）") % {"src": src, "p": r.plate_no,
                                                                             "t": r.vehicle_type})
    rows, src = ref(m.RefKind.BUSINESS)
    for r in rows.filter(status__in=params["BUSINESS_ACTIVE_STATUSES"]):
        warn("ASSET_BUSINESS", r.id_number, _("%(src)s：%(c)s（%(s)s）") % {"src": src, "c": r.company_name,
                                                                          "s": r.status})
    rows, src = ref(m.RefKind.PROPERTY)
    homes = list(rows.filter(usage=params["PROPERTY_HOME_USAGE"]))
    if len({h.unit_no for h in homes}) > int(params["PROPERTY_MAX_HOMES"]):
        warn("ASSET_PROPERTY", homes[0].id_number,
             _("%(src)s：家庭成员名下住宅 %(n)s 套") % {"src": src, "n": len({h.unit_no for h in homes})})
    rows, src = ref(m.RefKind.DISABILITY)
    for r in rows:
        warn("INFO_DISABILITY", r.id_number, _("%(src)s：%(c)s残疾 %(l)s 级") % {"src": src, "c": r.category,
                                                                              "l": r.level}, r.name, "info")
    rows, src = ref(m.RefKind.ILLNESS)
    for r in rows:
        warn("INFO_ILLNESS", r.id_number, _("%(src)s：病种 %(d)s") % {"src": src, "d": r.disease}, r.name, "info")
    rows, src = ref(m.RefKind.POVERTY)
    for r in rows:
        warn("INFO_POVERTY", r.id_number, _("%(src)s：建档立卡贫困人口") % {"src": src}, r.name, "info")
    return out


# --- rollup contract --------------------------------------------------------------------------

def _township():
    return Substr("region_code", 1, 9)


def rollup_metrics(*, start: dt.date, end: dt.date) -> dict[str, dict[str, int | Decimal]]:
    """Township (9 digits) → findings_raised, findings_confirmed, findings_dismissed,
    screening_tasks_done, funds_recovered for [start, end]."""
    result: dict[str, dict] = defaultdict(lambda: {"findings_raised": 0, "findings_confirmed": 0,
                                                   "findings_dismissed": 0, "screening_tasks_done": 0,
                                                   "funds_recovered": Decimal("0.00")})
    for town, n in _raised(start, end).values_list("town").annotate(n=Count(_subject(), distinct=True)):
        result[town]["findings_raised"] = n
    decided = (m.Finding.objects.filter(decided_at__date__gte=start, decided_at__date__lte=end)
               .annotate(town=_township()).values("town").order_by()
               .annotate(confirmed=Count("id", filter=Q(state=m.FindingState.CONFIRMED)),
                         dismissed=Count("id", filter=Q(state=m.FindingState.DISMISSED)),
                         funds=Sum("funds_recovered", filter=Q(state=m.FindingState.CONFIRMED))))
    for row in decided:
        item = result[row["town"]]
        item["findings_confirmed"] = row["confirmed"]
        item["findings_dismissed"] = row["dismissed"]
        item["funds_recovered"] = (row["funds"] or Decimal("0")).quantize(Decimal("0.01"))
    tasks = (m.VerificationTask.objects.filter(completed_at__date__gte=start, completed_at__date__lte=end)
             .values("township_code").order_by().annotate(n=Count("id")))
    for row in tasks:
        result[row["township_code"]]["screening_tasks_done"] = row["n"]
    return {town: dict(v) for town, v in result.items() if town}


def _subject():
    return Concat("rule", Value("|"), "subject_key")


def _raised(start, end):
    """Findings first raised in the period: a problem still open in a later batch keeps the date
    it was first raised, so it is counted once, in its first month."""
    return (m.Finding.objects.filter(first_raised_on__gte=start, first_raised_on__lte=end)
            .annotate(town=_township()).order_by())


def findings_raised_by_rule(*, start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for town, rule, n in (_raised(start, end).values_list("town", "rule")
                          .annotate(n=Count(_subject(), distinct=True))):
        if town:
            result[town][rule] = n
    return dict(result)


# --- verification tasks -----------------------------------------------------------------------

def tasks_for(user: User):
    return m.VerificationTask.objects.for_user(user)


def task_progress(user: User, level: int = 9) -> tuple[dt.datetime, list[dict]]:
    """(when counted, done / total / overdue per township (level 9) or county (level 6) inside the
    user's scope). A township's own counts are always fresh; a county's or wider ones, over up to
    millions of tasks, are shared by the users of that scope for a few minutes (dibao.summaries)."""
    today = timezone.localdate()

    def count() -> list[dict]:
        return list(tasks_for(user).annotate(area=Substr("township_code", 1, level)).values("area").order_by("area")
                    .annotate(total=Count("id"), done=Count("id", filter=~Q(outcome="")),
                              overdue=Count("id", filter=Q(outcome="", deadline__lt=today))))
    scope = user.scope_prefix
    if scope is not None and len(scope) >= 9:
        return timezone.localtime(), count()
    return shared_summary(f"task-progress:{scope or 'all'}:{level}:{today:%Y%m%d}", count)


def household_findings_summary(household_ids: list[int]) -> dict[int, tuple[list[str], str]]:
    """For the screening forms: household id → (names of rules with an open or confirmed finding in
    the latest batch that raised anything for it, the review decision and actions as text)."""
    latest = (m.Finding.objects.filter(household_id__in=household_ids)
              .values("household_id").order_by().annotate(batch=Max("batch_id")))
    wanted = {row["household_id"]: row["batch"] for row in latest}
    out: dict[int, tuple[list[str], list[str]]] = {}
    rows = (m.Finding.objects.filter(household_id__in=household_ids,
                                     state__in=[m.FindingState.PENDING, m.FindingState.CONFIRMED])
            .order_by("household_id", "rule", "id"))
    for f in rows:
        if wanted.get(f.household_id) != f.batch_id or f.section != "A":
            continue
        names, handling = out.setdefault(f.household_id, ([], []))
        if f.rule_name not in names:
            names.append(f.rule_name)
        if f.state == m.FindingState.CONFIRMED:
            handling.append(_handling_text(f))
    return {hid: (names, "；".join(h for h in handling if h)) for hid, (names, handling) in out.items()}


def _handling_text(finding: m.Finding) -> str:
    parts = [str(m.FindingState(finding.state).label)]
    actions = finding.actions or {}
    if actions.get("exit"):
        parts.append(_("退出（%(d)s）") % {"d": actions["exit"].get("exited_on", "")})
    if actions.get("stop_payment"):
        parts.append(_("停发"))
    if finding.funds_recovered:
        parts.append(_("追回资金 %(a)s 元") % {"a": finding.funds_recovered})
    if actions.get("clue"):
        parts.append(_("移送线索"))
    return "，".join(parts)
