"""The standard documents (规范文书) of an application: each opens in Word with the case's facts,
the public notice sheet never carries a full ID number, downloads are scoped and audited."""
import datetime as dt
import hashlib
import io

import pytest
from django.urls import reverse
from docx import Document as Docx

from cases import applications as svc
from cases import documents
from cases.tests.application_fixtures import (  # noqa: F401 (fixtures)
    accept, applicant, notice, people, propose, scan, to_notice, today, visit)
from dibao.models import AuditRecord
from tests.factories import FilingFactory, HouseholdFactory, StaffFactory

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    """All text of a .docx, paragraphs and table cells."""
    doc = Docx(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture
def approved(people, applicant, today):
    app = accept(people, applicant)
    visit(people, app)
    svc.application_appraise(actor=people["caseworker_a"], application=app, appraised_on=dt.date(2026, 9, 3),
                             participants="村民代表 9 人", result="同意 9 票", minutes=scan("minutes.pdf"))
    propose(people, app)
    app = notice(people, app)
    return svc.application_confirm(actor=people["reviewer"], application=app, decided_on=dt.date(2026, 9, 15))


def download(client, app, key):
    response = client.get(reverse("cases:document_docx", args=[app.pk, key]))
    assert response.status_code == 200, key
    assert response["Content-Type"] == documents.DOCX_TYPE
    return response.content


def test_every_document_opens_with_the_case_facts(people, approved, client_for):
    FilingFactory(staff=StaffFactory(name="李干部"), household=approved.household, relative_name="王大山")
    client = client_for(people["caseworker_a"])
    keys = [kind.key for kind in documents.documents_for(approved)]
    assert keys == ["accept_notice", "authorisation", "survey", "appraisal", "notice", "approval_form",
                    "relative_filing"]
    head = approved.household.members.get(relation="本人")
    for key in keys:
        text = text_of(download(client, approved, key))
        assert approved.tracking_no in text and "王大山" in text, key
        assert "{{" not in text and "{%" not in text, key
    approval = text_of(download(client, approved, "approval_form"))
    assert "900.00 元" in approval and "同意 9 票" in approval
    assert str(people["reviewer"]) in approval and str(people["caseworker_a2"]) in approval
    assert head.id_number in approval  # an internal form, for a caseworker who may see full numbers
    assert "李干部" in text_of(download(client, approved, "relative_filing"))


def test_public_notice_sheet_masks_every_id_number(people, approved, client_for):
    members = list(approved.household.members.all())
    for user in ("reviewer", "caseworker_a", "admin"):
        content = download(client_for(people[user]), approved, "notice")
        text = text_of(content)
        assert "900.00 元" in text and approved.tracking_no in text
        for member in members:
            assert member.id_number not in text and member.id_masked in text
    page = client_for(people["reviewer"]).get(reverse("cases:document_print", args=[approved.pk, "notice"]))
    body = page.content.decode()
    assert page.status_code == 200 and approved.tracking_no in body
    assert all(m.id_number not in body and m.id_masked in body for m in members)


def test_internal_documents_mask_ids_for_a_role_that_may_not_see_them(people, approved, client_for):
    head = approved.household.members.get(relation="本人")
    text = text_of(download(client_for(people["supervisor"]), approved, "approval_form"))
    assert head.id_number not in text and head.id_masked in text


def test_refusal_and_not_accepted_notices_carry_the_reasons(people, applicant, today, client_for):
    app = to_notice(people, applicant)
    app = svc.application_refuse(actor=people["reviewer"], application=app, reasons="家庭人均收入高于保障标准",
                                 decided_on=dt.date(2026, 9, 15))
    client = client_for(people["caseworker_a"])
    text = text_of(download(client, app, "refusal_notice"))
    assert "不予批准" in text and "家庭人均收入高于保障标准" in text and app.tracking_no in text
    walk_in = HouseholdFactory(household_no="H-NA", head_name="赵四", status="pending", decided_on=None,
                               monthly_amount=None)
    other = svc.application_not_accept(actor=people["caseworker_a"], household=walk_in, reason="未提供户口簿",
                                       decided_on=dt.date(2026, 10, 2))
    assert [k.key for k in documents.documents_for(other)] == ["not_accept_notice"]
    assert "未提供户口簿" in text_of(download(client, other, "not_accept_notice"))


def test_documents_of_another_township_are_404_and_a_missing_one_too(people, approved, client_for):
    for user in ("caseworker_b", "caseworker_c", "reviewer_other"):
        client = client_for(people[user])
        assert client.get(reverse("cases:document_docx", args=[approved.pk, "notice"])).status_code == 404
        assert client.get(reverse("cases:document_print", args=[approved.pk, "notice"])).status_code == 404
    client = client_for(people["caseworker_a"])
    assert client.get(reverse("cases:document_docx", args=[approved.pk, "refusal_notice"])).status_code == 404
    assert client.get(reverse("cases:document_docx", args=[approved.pk, "nonsense"])).status_code == 404
    assert client_for(people["inspector"]).get(
        reverse("cases:document_docx", args=[approved.pk, "notice"])).status_code == 403
    assert not AuditRecord.objects.filter(action="application.document").exists()


def test_download_is_audited_with_the_file_hash(people, approved, client_for):
    content = download(client_for(people["reviewer"]), approved, "approval_form")
    record = AuditRecord.objects.get(action="application.document")
    assert record.actor == people["reviewer"] and record.object_id == str(approved.pk)
    assert record.after["sha256"] == hashlib.sha256(content).hexdigest()
    assert record.after["document"] == "approval_form" and approved.tracking_no in record.note


def test_case_page_lists_documents_and_scans(people, approved, client_for):
    body = client_for(people["caseworker_a"]).get(
        reverse("cases:application_detail", args=[approved.pk])).content.decode()
    assert reverse("cases:document_docx", args=[approved.pk, "notice"]) in body
    assert reverse("cases:document_print", args=[approved.pk, "approval_form"]) in body
    scan_row = approved.attachments.first()
    assert reverse("cases:application_attachment", args=[approved.pk, scan_row.pk]) in body
