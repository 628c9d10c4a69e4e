"""Reads, already scoped to the user (they start from `Model.objects.for_user(user)`)."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from dibao.models import Region
from complaints.models import (
    Clue, ClueState, Complaint, ComplaintState, DialTest, Discipline, HomeSample, Hotline, Inspection,
    OPEN_COMPLAINT_STATES, RectificationItem, RectificationStatus, Referral, TypicalCase,
)


def complaints(user, *, state: str = "", overdue: bool = False, q: str = ""):
    qs = Complaint.objects.for_user(user).select_related("region", "subject_region", "owner_region")
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state__in=OPEN_COMPLAINT_STATES, deadline__lt=timezone.localdate())
    if q:
        qs = qs.filter(Q(content__icontains=q) | Q(subject_name__icontains=q) | Q(tracking_code=q.upper()))
    return qs.order_by("-received_on", "-id")


def complaint_status(code: str) -> Complaint | None:
    """For the public status page (no user): the caller checks the phone digits."""
    return Complaint.objects.filter(tracking_code=(code or "").strip().upper()).select_related("region").first()


def clues(user, *, state: str = "", category: str = "", q: str = ""):
    qs = (Clue.objects.for_user(user).select_related("region", "referral", "referral__body_region")
          .order_by("-received_on", "-id"))
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(summary__icontains=q) | Q(people_involved__icontains=q))
    return qs


def clue_detail_queryset(user):
    return (Clue.objects.for_user(user).select_related("region", "complaint", "referral", "created_by")
            .prefetch_related("staff", Prefetch("referral__disciplines", queryset=Discipline.objects.all())))


def clue_ledger_rows(user):
    """Clues with their referral and persons disciplined, for the ledger export."""
    return (clues(user).select_related("referral").annotate(persons=Sum("referral__disciplines__count"))
            .order_by("received_on", "number"))


def typical_cases(user, *, month: dt.date | None = None):
    qs = TypicalCase.objects.for_user(user).select_related("region", "clue", "clue__referral")
    if month:
        qs = qs.filter(month=month.replace(day=1))
    return qs.order_by("-month", "region_id", "id")


def rectifications(user, *, status: str = "", overdue: bool = False):
    qs = RectificationItem.objects.for_user(user).select_related("region", "clue")
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=RectificationStatus.OPEN, deadline__lt=timezone.localdate())
    return qs.order_by("deadline", "id")


def hotlines(user):
    return Hotline.objects.for_user(user).select_related("region")


def public_hotlines():
    """All active hotlines grouped by region path, for the public page."""
    return Hotline.objects.filter(active=True).select_related("region").order_by("region_id", "id")


_NAME_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_REMARK = re.compile(r"[（(][^）)]*[）)]")


def public_typical_cases(month: dt.date) -> list[dict]:
    """The month's typical cases as the public reads them (通报曝光, seed 001): the people named in
    the clue appear masked wherever the title or summary names them; no other clue detail."""
    from dibao.idnumber import mask_name

    cases = (TypicalCase.objects.filter(month=month.replace(day=1)).select_related("region", "clue")
             .prefetch_related("clue__referral__disciplines").order_by("region_id", "id"))
    out = []
    for case in cases:
        names = sorted({n for n in _NAME_SEPARATORS.split(_REMARK.sub(" ", case.clue.people_involved)) if len(n) >= 2},
                       key=len, reverse=True)
        title, summary = case.title, case.summary
        for name in names:
            title, summary = title.replace(name, mask_name(name)), summary.replace(name, mask_name(name))
        referral = getattr(case.clue, "referral", None)
        out.append({"title": title, "summary": summary, "region": case.region.full_name, "month": case.month,
                    "category": case.clue.get_category_display(),
                    "people": [mask_name(n) for n in names],
                    "disciplines": [(d.get_kind_display(), d.count) for d in referral.disciplines.all()]
                    if referral else []})
    return out


def dial_tests(user):
    return DialTest.objects.for_user(user).select_related("hotline", "hotline__region", "caller")


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def dial_stats_by_hotline(user):
    rows = (DialTest.objects.for_user(user).values("hotline_id", "hotline__unit", "hotline__numbers",
                                                   "hotline__region_id")
            .annotate(calls=Count("id"), answered=Count("id", filter=Q(answered=True)),
                      proper=Count("id", filter=Q(handled_properly=True)))
            .order_by("hotline__region_id", "hotline_id"))
    return [dict(r, answer_rate=_rate(r["answered"], r["calls"]), proper_rate=_rate(r["proper"], r["answered"]))
            for r in rows]


def dial_stats_by_county(user):
    """Answer rate per county (hotlines of a city or province count at their own level)."""
    rows = (DialTest.objects.for_user(user).annotate(county=Substr("hotline__region_id", 1, 6)).values("county")
            .annotate(calls=Count("id"), answered=Count("id", filter=Q(answered=True)),
                      proper=Count("id", filter=Q(handled_properly=True)))
            .order_by("county"))
    names = dict(Region.objects.filter(code__in=[r["county"] for r in rows]).values_list("code", "name"))
    return [dict(r, name=names.get(r["county"], r["county"]), answer_rate=_rate(r["answered"], r["calls"]),
                 proper_rate=_rate(r["proper"], r["answered"])) for r in rows]


def inspections(user):
    return Inspection.objects.for_user(user).select_related("region", "checklist")


def samples(inspection):
    return HomeSample.objects.filter(inspection=inspection).select_related("region").prefetch_related(
        "visits__household")


def _group(qs, date_field: str, start, end, code_path: str, value=None) -> dict[str, object]:
    qs = (qs.filter(**{f"{date_field}__gte": start, f"{date_field}__lte": end})
          .annotate(_code=Substr(code_path, 1, 9)).values("_code"))
    rows = qs.annotate(v=value if value is not None else Count("id")).values_list("_code", "v")
    return dict(rows)


def rollup_metrics(*, start: dt.date, end: dt.date) -> dict[str, dict[str, int | Decimal]]:
    """Complaints and clues per township for [start, end] (inclusive), GROUP BY code prefix.

    Keys are the first 9 digits of the region code. Complaints and clues recorded at a
    county, city or province (a complaint against township staff is owned by the county;
    a clue about a county bureau) have a shorter natural code, so their key is that code
    itself (6, 4 or 2 digits) — never a padded pseudo township. Reports adds such rows at
    their own level when it rolls townships up, so a county's figures = its townships'
    + its own.

    Attribution: complaints by their receiving unit (`owner_region`, which does not change
    when the complaint is assigned for verification); clues by their region.

    * complaints_received — received_on in range;
    * complaints_closed — closed_on in range;
    * complaints_overdue — still open at `end` with deadline < `end`, plus closed in range
      after their deadline (replied late);
    * clues_received — received_on in range; clues_transferred — referred_on in range;
    * clues_concluded — concluded_on in range (by the body or settled by the bureau);
    * persons_disciplined, funds_recovered — over referrals concluded in range.
    """
    complaints_qs = Complaint.objects.all()
    code = "owner_region_id"
    metrics: dict[str, dict[str, int | Decimal]] = defaultdict(dict)

    def put(name, data):
        for key, value in data.items():
            metrics[key][name] = value if value is not None else 0

    put("complaints_received", _group(complaints_qs, "received_on", start, end, code))
    put("complaints_closed", _group(complaints_qs, "closed_on", start, end, code))
    overdue = (complaints_qs.filter(Q(received_on__lte=end, deadline__lt=end) & (
        Q(state__in=OPEN_COMPLAINT_STATES) | Q(closed_on__gt=end)))
        | complaints_qs.filter(closed_on__gte=start, closed_on__lte=end, deadline__lt=F("closed_on")))
    put("complaints_overdue", dict(overdue.annotate(_code=Substr(code, 1, 9)).values("_code")
                                   .annotate(v=Count("id", distinct=True)).values_list("_code", "v")))
    put("clues_received", _group(Clue.objects.all(), "received_on", start, end, "region_id"))
    put("clues_transferred", _group(Referral.objects.all(), "referred_on", start, end, "clue__region_id"))
    put("clues_concluded", _group(Clue.objects.filter(state=ClueState.CONCLUDED), "concluded_on", start, end,
                                  "region_id"))
    concluded = Referral.objects.filter(concluded_on__isnull=False)
    put("persons_disciplined", _group(concluded, "concluded_on", start, end, "clue__region_id",
                                      Sum("disciplines__count")))
    put("funds_recovered", _group(concluded, "concluded_on", start, end, "clue__region_id", Sum("funds_recovered")))
    names = ("complaints_received", "complaints_closed", "complaints_overdue", "clues_received",
             "clues_transferred", "clues_concluded", "persons_disciplined", "funds_recovered")
    result = {}
    for key, values in metrics.items():
        row = {n: values.get(n, 0) for n in names}
        row["funds_recovered"] = Decimal(row["funds_recovered"] or 0).quantize(Decimal("0.01"))
        row["persons_disciplined"] = int(row["persons_disciplined"] or 0)
        result[key] = row
    return result


def complaint_counts(user) -> dict[str, int]:
    qs = Complaint.objects.for_user(user)
    today = timezone.localdate()
    data = qs.aggregate(open=Count("id", filter=Q(state__in=OPEN_COMPLAINT_STATES)),
                        overdue=Count("id", filter=Q(state__in=OPEN_COMPLAINT_STATES, deadline__lt=today)),
                        replied=Count("id", filter=Q(state=ComplaintState.REPLIED)))
    data.update(Clue.objects.for_user(user).aggregate(
        clues_open=Count("id", filter=~Q(state=ClueState.CONCLUDED)),
        clues_referred=Count("id", filter=Q(state=ClueState.REFERRED))))
    data["rectification_overdue"] = RectificationItem.objects.for_user(user).filter(
        status=RectificationStatus.OPEN, deadline__lt=today).count()
    return data
