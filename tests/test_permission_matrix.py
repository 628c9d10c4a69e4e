"""Every URL pattern and every API operation × every role (and no role, and anonymous) against
the one permission table, dibao.permissions.PERMISSIONS.

The rule of a URL comes from the view: API views declare `required_actions` (dibao.api_permissions),
pages their `permission_required(...)` decorator. Pages that check inside the view, and the public
or any-signed-in ones, are listed in PAGE_RULES below. A URL with no rule fails the suite, so a new
endpoint cannot ship without one. Objects for detail URLs come from a small world in township
220102001 (the caseworker's); a user of the same role from another township or county gets 404.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from audits.models import BatchChunk, Finding, RescreenBatch, VerificationTask
from campaigns import services as campaign_services
from campaigns.models import CampaignHousehold
from dibao.jobs import JobState
from cases import applications as application_services
from complaints import services as complaint_services
from dibao.api_permissions import SIGNED_IN, required_actions_for
from dibao.models import Region
from dibao.permissions import PERMISSIONS, can
from imports.models import ImportJob
from payments import verification as verification_services
from payments.models import Payment
from reports import services as report_services
from reports.models import ExportJob, RollupRow
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC = "public"
ROLES = ["caseworker", "county_reviewer", "supervisor", "inspector", "admin"]
HOME_REGION = {"caseworker": "220102001", "county_reviewer": "220102", "supervisor": "2201",
               "inspector": "220102", "admin": None, "": "220102001"}
# the same role elsewhere: the world's objects are out of their jurisdiction
OTHER_REGION = {"caseworker": "220102002", "county_reviewer": "220103", "supervisor": "2202",
                "inspector": "220103"}

# Pages whose rule is not declared on the view. A tuple: any one of the actions.
PAGE_RULES: dict[str, str | tuple[str, ...]] = {
    "home": SIGNED_IN,
    "healthz": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_change": SIGNED_IN,
    "set_language": PUBLIC,
    "region_options": SIGNED_IN,
    "imports:index": ("import.registry", "import.reference"),
    "imports:template": ("import.registry", "import.reference"),
    "complaints:complaint_list": "complaint.view",
    "complaints:complaint_create": "complaint.handle",
    "complaints:complaint_detail": "complaint.view",
    "complaints:complaint_reveal": "complaint.view",
    "complaints:complaint_action": "complaint.handle",
    "complaints:attachment": "complaint.view",
    "complaints:clue_list": "clue.view",
    "complaints:clue_create": "clue.manage",
    "complaints:clue_detail": "clue.view",
    "complaints:clue_attachment": "clue.view",
    "complaints:clue_edit": "clue.manage",
    "complaints:clue_action": "clue.view",
    "complaints:typical_list": "clue.view",
    "complaints:rectification_list": "rectification.view",
    "complaints:rectification_create": "rectification.create",
    "complaints:rectification_detail": "rectification.view",
    "complaints:hotline_list": "hotline.view",
    "complaints:hotline_create": "hotline.manage",
    "complaints:hotline_edit": "hotline.manage",
    "complaints:dial_test_list": "hotline.view",
    "complaints:dial_test_create": "dial_test.record",
    "complaints:inspection_list": "inspection.view",
    "complaints:inspection_create": "inspection.manage",
    "complaints:inspection_detail": "inspection.view",
    "complaints:visit_record": "inspection.manage",
    "complaints:export": "export.clues",  # kind "clues"
    "public_notice:notice": PUBLIC,
    "public_notice:edition": PUBLIC,
    "complaints_public:typical_cases": PUBLIC,
    "complaints_public:complaint": PUBLIC,
    "complaints_public:status": PUBLIC,
    "complaints_public:regions": PUBLIC,
    "complaints_public:hotlines": PUBLIC,
    "api_schema": SIGNED_IN,
    "api_docs": SIGNED_IN,
}
# Role-allowed, but the service adds a rule beyond role and region that an empty request from the
# world's users does not meet (each app's tests cover it): only the handling unit sees a complainant.
BEYOND_ROLE = {"complaints:complaint_reveal"}
# A county's campaign is every one of its townships' campaign: another township sees it (not its rows).
COUNTY_WIDE = {"campaigns:detail", "campaign-detail"}
NOT_HERE = {"admin"}
PUBLIC_NAMESPACES = {"public_notice", "complaints_public"}  # mounted under /public/: for everybody, by design  # Django's admin site: its own staff-only gate (is_staff), tested by Django


@dataclass
class Route:
    name: str
    pattern: str
    callback: object
    params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return hasattr(self.callback, "cls")

    def methods(self) -> list[str]:
        if getattr(self.callback, "actions", None):
            allowed = self.callback.cls.http_method_names
            return [m.upper() for m in self.callback.actions if m in allowed and m not in ("head", "options")]
        if self.is_api:
            return [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(self.callback.cls, m)]
        return ["GET", "POST"]

    def rule(self, method: str) -> tuple[str, ...] | None:
        """The actions (any one of them) a request needs; (PUBLIC,) / (SIGNED_IN,) for the open ones."""
        if self.is_api:
            view = self.callback.cls(**getattr(self.callback, "initkwargs", {}))
            view.action = (getattr(self.callback, "actions", None) or {}).get(method.lower())
            if self.name in PAGE_RULES:  # drf-spectacular's own views
                return _as_tuple(PAGE_RULES[self.name])
            return required_actions_for(view, method)
        declared = getattr(self.callback, "required_actions", None)
        if declared:
            return tuple(declared)
        if self.name.split(":")[0] in PUBLIC_NAMESPACES:
            return (PUBLIC,)
        return _as_tuple(PAGE_RULES[self.name]) if self.name in PAGE_RULES else None


def _as_tuple(rule) -> tuple[str, ...]:
    return (rule,) if isinstance(rule, str) else tuple(rule)


def _routes() -> list[Route]:
    out = []

    def walk(patterns, namespace, params):
        for p in patterns:
            names = tuple(p.pattern.regex.groupindex)
            if isinstance(p, URLResolver):
                if p.namespace in NOT_HERE:
                    continue
                ns = ":".join(x for x in (namespace, p.namespace) if x)
                walk(p.url_patterns, ns, params + names)
            elif isinstance(p, URLPattern):
                if p.name is None:
                    continue  # static files in DEBUG: WhiteNoise / Django's dev server, not the app
                name = f"{namespace}:{p.name}" if namespace else p.name
                out.append(Route(name, str(p.pattern), p.callback, params + names))
    walk(get_resolver().url_patterns, "", ())
    return out


def _allowed(user, rule: tuple[str, ...]) -> bool:
    if rule == (PUBLIC,):
        return True
    if user is None:
        return False
    if rule == (SIGNED_IN,):
        return True
    return any(can(user, action) for action in rule)


# --- the world -----------------------------------------------------------------------------------

@pytest.fixture
def world(regions, django_user_model, settings, tmp_path):
    """One object of each kind in township 220102001, and one user per role there (or above)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    Region.objects.get_or_create(code="2202", defaults={"name": "吉林市", "level": 2, "parent_id": "22"})
    users = {role: UserFactory(username=f"m_{role}", region_id=HOME_REGION[role], role=role) for role in ROLES}
    users[""] = UserFactory(username="m_norole", region_id=HOME_REGION[""])
    others = {role: UserFactory(username=f"o_{role}", region_id=code, role=role) for role, code in OTHER_REGION.items()}
    cw, reviewer, supervisor = users["caseworker"], users["county_reviewer"], users["supervisor"]

    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household)
    staff = StaffFactory(region_id="220102001001")
    filing = FilingFactory(staff=staff)
    job = ImportJob.objects.create(kind="households", created_by=cw, actor_name=cw.username, region_code="220102001",
                                   file_name="低保家庭.xlsx", sha256="0" * 64, state="done")
    batch = RescreenBatch.objects.create(region_code="220102001", as_of=dt.date(2026, 3, 1), state=JobState.DONE)
    chunk = BatchChunk.objects.create(batch=batch, region_code="220102001", state=JobState.DONE)
    finding = Finding.objects.create(batch=batch, chunk=chunk, rule="DECEASED", household=household,
                                     id_number=household.head_id_number, name=household.head_name,
                                     region_code="220102001001", subject_key=household.head_id_number,
                                     detail="死亡", evidence_hash="x", first_raised_on=dt.date(2026, 3, 1))
    task = VerificationTask.objects.create(scope_region="220102001", id_number=member.id_number, name=member.name,
                                           region_code="220102001001", township_code="220102001",
                                           created_on=dt.date(2026, 3, 1), deadline=dt.date(2026, 4, 1))
    complaint = complaint_services.complaint_create(actor=cw, data={
        "channel": "12345", "complainant_name": "钱七", "complainant_phone": "13600009999",
        "subject_type": "household", "subject_region": regions["220102001001"], "content": "某户有营业执照"})
    clue = complaint_services.clue_create(actor=reviewer, data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": "村主任为其弟违规办理低保。", "people_involved": "赵某"})
    complaint_services.clue_refer(actor=reviewer, clue=clue, body_region=regions["220102"], body_name="")
    settled = complaint_services.clue_create(actor=reviewer, data={
        "source": "complaint", "region": regions["220102001001"], "category": "错保", "summary": "已查实"})
    complaint_services.clue_conclude_directly(actor=reviewer, clue=settled, handling="已停发")
    typical = complaint_services.typical_case_mark(actor=reviewer, clue=settled, title="典型", summary="摘要")
    item = complaint_services.rectification_create(actor=reviewer, data={
        "region": regions["220102001"], "source": "finding", "finding_id": finding.pk, "problem": "死亡未退保",
        "measures": "停发", "responsible_unit": "南岭街道", "responsible_person": "李", "deadline": dt.date(2026, 6, 30)})
    hotline = complaint_services.hotline_save(actor=reviewer, data={
        "region": regions["220102"], "unit": "南关区民政局", "numbers": "0431-88612347", "hours": "工作日",
        "online_channel": "", "postal_address": ""})
    dial = complaint_services.dial_test_record(actor=supervisor, hotline=hotline, number="0431-88612347",
                                               called_at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC),
                                               answered=True, handled_properly=True, notes="")
    inspection = complaint_services.inspection_create(actor=supervisor, data={
        "region": regions["220102001"], "checklist": complaint_services.default_checklist(),
        "inspected_on": dt.date(2026, 3, 1), "team": "督查组"})
    sample = complaint_services.sample_draw(actor=supervisor, inspection=inspection, township=regions["220102001"],
                                            count=1, seed="s")
    Payment.objects.create(txn_no="T-matrix", pay_month=dt.date(2026, 2, 1), household_no=household.household_no,
                           household=household, payee_name=household.head_name,
                           payee_id_number=household.head_id_number, account_no="6217000000000000001",
                           amount=500, paid_on=dt.date(2026, 2, 10), region_code=household.region_id,
                           imported_at=dt.datetime(2026, 2, 11, tzinfo=dt.UTC))
    payment_check = verification_services.verification_draw(actor=reviewer, month=dt.date(2026, 2, 1),
                                                             township="220102001", count=1, seed="s")
    report_services.rollup_compute(actor="system", month=dt.date(2026, 2, 1), scope="220102")
    rollup = RollupRow.objects.get(region_code="220102001", month=dt.date(2026, 2, 1))
    application = application_services.application_accept(
        actor=cw, household=HouseholdFactory(region_id="220102001001", status="pending", decided_on=None,
                                             monthly_amount=None),
        authorisation=SimpleUploadedFile("auth.pdf", b"%PDF-1.4 matrix"))
    campaign = campaign_services.campaign_create(
        actor=reviewer, name="专项排查", region_code="220102", active_end=dt.date(2026, 6, 30),
        exited_from=dt.date(2026, 1, 1), exited_to=dt.date(2026, 6, 30), rejected_from=dt.date(2026, 1, 1),
        rejected_to=dt.date(2026, 6, 30), screening_deadline=dt.date(2026, 8, 31),
        reporting_deadline=dt.date(2026, 9, 10))
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    screening = campaign_services.screening_record_save(
        actor=cw, campaign_household=entry, screened_on=dt.date(2026, 3, 1), screeners="张三", result="problem",
        problem_types=["死亡保"], handling="退出")
    exports = {u.pk: ExportJob.objects.create(kind="rollup", region_code="220102001", requested_by=u,
                                              params={"month": "2026-02", "level": "township"})
               for u in [*users.values(), *others.values()]}
    ids = {"household": household.pk, "member": member.pk, "staff": staff.pk, "relative-filing": filing.pk,
           "cases:household": household.pk, "cases:staff": staff.pk, "cases:filing": filing.pk,
           "imports:job": job.pk, "api_import": job.pk, "audits:batch": batch.pk, "rescreen-batch": batch.pk,
           "audits:finding": finding.pk, "finding": finding.pk, "audits:task": task.pk,
           "verification-task": task.pk, "complaints:complaint": complaint.pk, "complaint": complaint.pk,
           "complaints:attachment": 0, "complaints:clue": clue.pk, "clue": clue.pk, "typical-case": typical.pk,
           "complaints:rectification": item.pk, "rectification": item.pk, "complaints:hotline": hotline.pk,
           "hotline": hotline.pk, "dial-test": dial.pk, "complaints:inspection": inspection.pk,
           "inspection": inspection.pk, "complaints:visit": sample.visits.first().pk,
           "home-visit": sample.visits.first().pk, "rollup": rollup.pk,
           "cases:application": application.pk, "application": application.pk,
           "campaigns": campaign.pk, "campaign": campaign.pk, "screening-record": screening.pk,
           "entry": entry.pk, "payments:verification": payment_check.pk,
           "payments:visit": payment_check.visits.get().pk}
    return {"users": users, "others": others, "ids": ids, "exports": exports}


SLUGS = {"kind": "households", "code": "220102001", "action": "verify", "attachment_pk": 0,
         "township": "220102001", "village": "220102001001"}
SLUG_BY_NAME = {"complaints:export": {"kind": "clues"},
                "complaints:clue_action": {"action": "refer"}}


def _url(route: Route, world, user) -> str:
    kwargs = {}
    for param in route.params:
        named = SLUG_BY_NAME.get(route.name, {})
        if param in named:
            kwargs[param] = named[param]
        elif param == "pk" and route.name.startswith(("reports:job", "export-job")):
            kwargs[param] = world["exports"][user.pk if user else next(iter(world["exports"]))].pk
        elif route.name == "region-detail":
            kwargs[param] = "220102001"
        elif param == "pk":
            kwargs[param] = _object_id(route.name, world)
        elif param in SLUGS:
            kwargs[param] = SLUGS[param]
    return _reverse_filling(route.name, kwargs, [p for p in route.params if p not in kwargs])


def _reverse_filling(name: str, kwargs: dict, unknown: list[str]) -> str:
    """Reverse, giving a parameter the world knows nothing about the first value its pattern takes:
    an id that does not exist, a township code, or a word."""
    candidates = [MISSING, "220102001", "households"]
    if not unknown:
        return reverse(name, kwargs=kwargs)
    for value in candidates:
        try:
            return _reverse_filling(name, {**kwargs, unknown[0]: value}, unknown[1:])
        except NoReverseMatch:
            continue
    raise NoReverseMatch(f"{name}: no value fits {unknown[0]}")


MISSING = 999999  # a URL whose object the world lacks: the permission gate still answers before the 404


def _object_id(name: str, world) -> int:
    for key in sorted(world["ids"], key=len, reverse=True):
        if name == key or name.startswith(key + "-") or name.startswith(key + "_"):
            return world["ids"][key]
    return MISSING


def _client(user) -> Client:
    client = Client(raise_request_exception=False)  # a crash is one more wrong cell, not the end of the walk
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _request(client: Client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, data="{}" if url.startswith("/api/") else "",
                                           content_type="application/json" if url.startswith("/api/")
                                           else "application/x-www-form-urlencoded")


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def _denied_ok(response, *, anonymous: bool, api: bool) -> bool:
    if api:
        return response.status_code in ((401, 403) if anonymous else (403,))
    return response.status_code == 403 or (anonymous and _is_login_redirect(response))


# --- the tests ------------------------------------------------------------------------------------

def test_every_url_has_a_rule():
    missing = [f"{r.name} {m} ({r.pattern})" for r in _routes() for m in r.methods() if r.rule(m) is None]
    assert not missing, "URLs without a permission rule (declare required_actions / permission_required):\n" + \
        "\n".join(missing)


def test_every_rule_names_an_action_of_the_table():
    unknown = {(r.name, a) for r in _routes() for m in r.methods() for a in (r.rule(m) or ())
               if a not in PERMISSIONS and a not in (PUBLIC, SIGNED_IN)}
    assert not unknown


def test_every_schema_operation_is_a_walked_route():
    """The OpenAPI schema documents exactly the API the resolver serves."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {(re.sub(r"\{\w+\}", "{}", path), method.upper())
                  for path, ops in schema["paths"].items() for method in ops}
    served = set()
    for r in _routes():
        if r.is_api and r.name not in PAGE_RULES:
            path = "/api/v1/" + re.sub(r"\(\?P<\w+>[^)]*\)|<[\w:]+>", "{}", r.pattern.replace("^", "").rstrip("$"))
            served |= {(path, m) for m in r.methods()}
    assert served - documented == set()


@pytest.mark.parametrize("role", [*ROLES, "", None], ids=[*ROLES, "no-role", "anonymous"])
def test_matrix(world, role):
    """Allowed → neither 401/403 nor a redirect to the login page; denied → 403 (pages: or the
    login page for anonymous), reads with GET and writes with an empty POST (never 400/500)."""
    user = world["users"][role] if role is not None else None
    client = _client(user)
    wrong = []
    for route in _routes():
        for method in route.methods():
            rule = route.rule(method)
            if rule is None or rule == (PUBLIC,):
                continue  # no rule: test_every_url_has_a_rule names it
            allowed = _allowed(user, rule)
            if allowed and method not in ("GET", "POST"):
                continue  # writes with a body are each app's API tests
            url = _url(route, world, user)
            response = _request(client, method, url)
            if response.status_code == 405:
                continue
            if allowed and route.name in BEYOND_ROLE:
                ok = response.status_code < 500
            elif allowed:
                ok = response.status_code not in (401, 403) and not _is_login_redirect(response) \
                    and response.status_code < 500
            else:
                ok = _denied_ok(response, anonymous=user is None, api=route.is_api)
            if not ok:
                wrong.append(f"{method} {url} [{route.name}] rule={rule} allowed={allowed} → {response.status_code}")
    assert not wrong, f"{role!r}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(OTHER_REGION))
def test_objects_of_another_jurisdiction_are_404(world, role):
    """Every URL with an object id, asked by the same role from another township (or county, or
    city): 404, never the object and never a 403 that confirms it exists."""
    user = world["others"][role]
    client = _client(user)
    wrong = []
    for route in _routes():
        if "pk" not in route.params or route.name.startswith(("reports:job", "export-job")):
            continue
        if role == "caseworker" and route.name in COUNTY_WIDE:
            continue
        for method in route.methods():
            rule = route.rule(method)
            if rule is None or not _allowed(user, rule) or method not in ("GET", "POST"):
                continue
            url = _url(route, world, world["users"][role])
            response = _request(client, method, url)
            if response.status_code not in (404, 405):
                wrong.append(f"{method} {url} [{route.name}] → {response.status_code}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
