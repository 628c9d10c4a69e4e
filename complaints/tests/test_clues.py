"""Clue → referral → the body's inspector records the outcome → the bureau sees it."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dibao.models import AuditRecord
from tests.factories import StaffFactory, UserFactory
from complaints import services
from complaints.models import Clue, ClueState

pytestmark = pytest.mark.django_db


def _outcome_post(client, clue, **extra):
    data = {"investigation": "经查，村主任为其弟违规办理低保属实。", "outcome": "属实", "funds_recovered": "11760.50",
            "n_党纪处分": "1", "n_诫勉谈话": "2"}
    data.update(extra)
    return client.post(reverse("complaints:clue_action", args=[clue.pk, "outcome"]), data)


def test_clue_number_and_fields(clue, users, regions):
    assert clue.number == f"XS-220102-{clue.received_on.year}-0001"
    second = services.clue_create(actor=users["reviewer"], data={
        "source": "media", "region": regions["220102002"], "category": "吃拿卡要", "summary": "媒体报道"})
    assert second.number.endswith("-0002")
    other = services.clue_create(actor=users["reviewer_other"], data={
        "source": "audit", "region": regions["220103001"], "category": "错保", "summary": "审计发现"})
    assert other.number.startswith("XS-220103-") and other.number.endswith("-0001")


def test_referral_outcome_end_to_end(clue, client_for, users, regions):
    county = client_for(users["reviewer"])
    r = county.post(reverse("complaints:clue_action", args=[clue.pk, "refer"]),
                    {"body_region": "220102", "body_name": "南关区纪委监委", "note": "涉嫌优亲厚友"})
    assert r.status_code == 302
    clue.refresh_from_db()
    assert clue.state == ClueState.REFERRED

    inspector = client_for(users["inspector"])
    page = inspector.get(reverse("complaints:clue_detail", args=[clue.pk])).content.decode()
    assert "村主任为其弟违规办理低保" in page and "登记调查结果" in page
    assert clue.number in inspector.get(reverse("complaints:clue_list")).content.decode()

    # county reviewers manage clues but cannot record investigation results
    assert _outcome_post(county, clue).status_code == 403

    _outcome_post(inspector, clue)
    inspector.post(reverse("complaints:clue_action", args=[clue.pk, "close"]))
    clue.refresh_from_db()
    assert clue.state == ClueState.CONCLUDED and clue.concluded_on
    assert clue.referral.outcome == "属实" and clue.referral.funds_recovered == Decimal("11760.50")
    assert clue.referral.persons_total == 3

    page = county.get(reverse("complaints:clue_detail", args=[clue.pk])).content.decode()
    assert "属实" in page and "11760.50" in page and "诫勉谈话 2" in page

    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"clue.create", "clue.refer", "referral.create", "referral.record", "referral.conclude"} <= actions


def test_other_bodies_inspectors_get_404(clue, client_for, users, regions):
    services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    city_inspector = UserFactory(username="insp_city", region=regions["2201"], role="inspector")
    other_county = UserFactory(username="insp_o", region=regions["220103"], role="inspector")
    for user in (city_inspector, other_county):
        c = client_for(user)
        assert c.get(reverse("complaints:clue_detail", args=[clue.pk])).status_code == 404
        assert _outcome_post(c, clue).status_code == 404
        assert c.get(f"/api/v1/clues/{clue.pk}/").status_code == 404
        assert clue.number not in c.get(reverse("complaints:clue_list")).content.decode()


def test_unreferred_clue_invisible_to_inspector(clue, client_for, users):
    assert client_for(users["inspector"]).get(reverse("complaints:clue_detail", args=[clue.pk])).status_code == 404


def test_refer_to_city_body(clue, client_for, users, regions):
    city_inspector = UserFactory(username="insp_city", region=regions["2201"], role="inspector")
    services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["2201"], body_name="长春市纪委监委")
    assert client_for(city_inspector).get(reverse("complaints:clue_detail", args=[clue.pk])).status_code == 200
    assert client_for(users["inspector"]).get(reverse("complaints:clue_detail", args=[clue.pk])).status_code == 404


def test_refer_rules(clue, users, regions):
    with pytest.raises(ValidationError, match="村（居）没有纪检监察机关"):
        services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102001001"], body_name="")
    with pytest.raises(ValidationError, match="只能移交给线索所在地或其上级"):
        services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220103"], body_name="")
    with pytest.raises(PermissionDenied):
        services.clue_refer(actor=users["caseworker_a"], clue=clue, body_region=regions["220102"], body_name="")


def test_outcome_rules(clue, users, regions):
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    with pytest.raises(ValidationError, match="请先登记调查情况"):
        services.referral_conclude(actor=users["inspector"], referral=referral)
    with pytest.raises(ValidationError, match="不属实时不应登记处理处分人数"):
        services.referral_record(actor=users["inspector"], referral=referral, investigation="查无实据",
                                 outcome="不属实", funds_recovered=Decimal("0"),
                                 disciplines=[{"kind": "批评教育", "count": 1}])


def test_typical_case_and_monthly_list(clue, client_for, users, regions):
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    services.referral_record(actor=users["inspector"], referral=referral, investigation="属实", outcome="属实",
                             funds_recovered=Decimal("100"), disciplines=[{"kind": "党纪处分", "count": 1}])
    services.referral_conclude(actor=users["inspector"], referral=referral)
    c = client_for(users["inspector"])
    bad = c.post(reverse("complaints:clue_action", args=[clue.pk, "typical"]),
                 {"title": "案例", "summary": "联系电话13912345678"}, follow=True)
    assert "含有身份证号或手机号" in bad.content.decode()
    c.post(reverse("complaints:clue_action", args=[clue.pk, "typical"]),
           {"title": "某村主任为亲属违规办理低保", "summary": "某村主任利用职务便利为其弟违规办理低保，受到党纪处分。"})
    clue.refresh_from_db()
    month = clue.typical_case.month
    assert month == clue.concluded_on.replace(day=1)
    page = client_for(users["reviewer"]).get(reverse("complaints:typical_list"),
                                             {"month": month.strftime("%Y-%m")}).content.decode()
    assert "某村主任为亲属违规办理低保" in page
    assert "某村主任为亲属违规办理低保" not in client_for(users["reviewer_other"]).get(
        reverse("complaints:typical_list")).content.decode()


def test_unconcluded_clue_cannot_be_typical(clue, users):
    with pytest.raises(ValidationError, match="只有已办结的线索"):
        services.typical_case_mark(actor=users["reviewer"], clue=clue, title="t", summary="s")


def test_clue_from_finding_contract(users, regions):
    clue = services.clue_create_from_finding(actor=users["reviewer"], finding_id=4711, summary="死亡人员仍领取低保金",
                                             region_code="220102001001", category="死亡保")
    assert clue.finding_id == 4711 and clue.region_id == "220102001001" and clue.source == "finding"
    again = services.clue_create_from_finding(actor=users["reviewer"], finding_id=4711, summary="x",
                                              region_code="220102001001")
    assert again.pk == clue.pk
    padded = services.clue_create_from_finding(actor=users["reviewer"], finding_id=4712, summary="y",
                                               region_code="220102001000")
    assert padded.region_id == "220102001" and padded.category == "错保"


def test_clue_from_complaint_links_staff(client_for, users, regions):
    staff = StaffFactory(region_id="220102001")
    complaint = services.complaint_create(actor=users["reviewer"], data={
        "channel": "visit", "anonymous": True, "subject_type": "staff", "subject_staff": staff,
        "subject_region": regions["220102001001"], "content": "经办人员吃拿卡要"})
    r = client_for(users["reviewer"]).post(reverse("complaints:complaint_action", args=[complaint.pk, "clue"]),
                                           {"category": "吃拿卡要", "summary": ""})
    clue = Clue.objects.get()
    assert r.url == reverse("complaints:clue_detail", args=[clue.pk])
    assert clue.complaint_id == complaint.pk and list(clue.staff.all()) == [staff]


def test_create_and_edit_clue_pages(client_for, users, regions):
    c = client_for(users["reviewer"])
    assert c.get(reverse("complaints:clue_create")).status_code == 200
    r = c.post(reverse("complaints:clue_create"), {
        "received_on": "2026-03-02", "source": "leadership", "channel": "", "region": "220102002",
        "category": "优亲厚友", "summary": "领导批示件", "people_involved": "", "evidence_links": "批示件 2026-01 号",
        "deadline": "2026-03-01"})
    assert "办理期限不能早于受理日期" in r.content.decode()
    r = c.post(reverse("complaints:clue_create"), {
        "received_on": "2026-03-02", "source": "leadership", "channel": "", "region": "220102002",
        "category": "优亲厚友", "summary": "领导批示件", "people_involved": "", "evidence_links": "批示件 2026-01 号",
        "deadline": "2026-04-01"})
    clue = Clue.objects.get()
    assert clue.number == "XS-220102-2026-0001"
    r = c.post(reverse("complaints:clue_edit", args=[clue.pk]), {
        "received_on": "2026-03-02", "source": "leadership", "channel": "", "region": "220102002",
        "category": "优亲厚友", "summary": "领导批示件（补充）", "people_involved": "孙某", "evidence_links": "",
        "deadline": "2026-04-01"})
    clue.refresh_from_db()
    assert clue.summary == "领导批示件（补充）"
    assert AuditRecord.objects.filter(action="clue.update", object_id=str(clue.pk)).exists()
    assert client_for(users["reviewer_other"]).get(reverse("complaints:clue_edit", args=[clue.pk])).status_code == 404


def test_direct_conclusion_by_bureau(clue, users):
    services.clue_conclude_directly(actor=users["reviewer"], clue=clue, handling="已督促乡镇清退")
    assert clue.state == ClueState.CONCLUDED and clue.concluded_on is not None


def test_body_inspector_sees_the_evidence_behind_the_clue(client, client_for, users, regions, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from complaints.models import Complaint
    client.post(reverse("complaints_public:complaint"), {
        "anonymous": "on", "subject_type": "staff", "subject_region": "220102001001", "content": "村干部优亲厚友",
        "attachments": [SimpleUploadedFile("证据.pdf", b"%PDF-1.4 evidence", "application/pdf")]})
    complaint = Complaint.objects.get()
    clue = services.clue_create_from_complaint(actor=users["reviewer"], complaint=complaint, category="优亲厚友")
    services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    attachment = complaint.attachments.get()
    url = reverse("complaints:clue_attachment", args=[clue.pk, attachment.pk])
    inspector = client_for(users["inspector"])
    assert "证据.pdf" in inspector.get(reverse("complaints:clue_detail", args=[clue.pk])).content.decode()
    assert inspector.get(url).status_code == 200
    assert inspector.get(reverse("complaints:attachment", args=[attachment.pk])).status_code == 403
    other = UserFactory(username="insp_o2", region=regions["220103"], role="inspector")
    assert client_for(other).get(url).status_code == 404


def test_clue_from_finding_takes_region_and_category_from_the_finding(users, regions, monkeypatch):
    monkeypatch.setattr(services, "_finding_facts", lambda finding_id: ("220102002000", "DECEASED"))
    clue = services.clue_create_from_finding(actor=users["reviewer"], finding_id=5, summary="死亡人员仍领取")
    assert clue.region_id == "220102002" and clue.category == "死亡保"


def test_finding_facts_reads_audits_finding(db):
    assert services._finding_facts(123456) == ("", "")  # no such finding: the caller's region is used
