import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dibao.models import AuditRecord
from complaints import services

pytestmark = pytest.mark.django_db


def _book(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_clue_ledger_workbook(clue, client_for, users, regions):
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    services.referral_record(actor=users["inspector"], referral=referral, investigation="属实", outcome="属实",
                             funds_recovered=Decimal("1200.50"), disciplines=[{"kind": "党纪处分", "count": 2}])
    services.referral_conclude(actor=users["inspector"], referral=referral)
    ws = _book(client_for(users["reviewer"]).get(reverse("complaints:export", args=["clues"]))).active
    assert ws["A1"].value == "农村低保问题线索台账"
    assert "填报单位" in ws["A2"].value and "南关区" in ws["A2"].value
    assert ws["B3"].value == "线索编号" and ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws["B4"].value == clue.number and ws["B4"].data_type == "s"
    assert ws["O4"].value == 2 and ws["P4"].value == 1200.5 and ws["P4"].number_format == "#,##0.00"
    assert ws["A5"].value.startswith("合计") and ws["O5"].value == 2
    assert AuditRecord.objects.filter(action="export.download", object_id="clues", actor=users["reviewer"]).exists()


def test_inspector_exports_only_their_referred_clues(clue, client_for, users, regions):
    ws = _book(client_for(users["inspector"]).get(reverse("complaints:export", args=["clues"]))).active
    assert ws["A4"].value.startswith("合计（0")


@pytest.mark.parametrize("kind, title", [("typical", "农村低保领域典型案例"), ("rectification", "农村低保专项治理整改台账"),
                                         ("dial_tests", "投诉举报电话拨打督导情况表")])
def test_other_workbooks(kind, title, client_for, users, hotline):
    services.dial_test_record(actor=users["supervisor"], hotline=hotline,
                              called_at=timezone.now(),
                              number="", answered=False, handled_properly=None, notes="无人接听")
    ws = _book(client_for(users["supervisor"]).get(reverse("complaints:export", args=[kind]))).active
    assert ws["A1"].value == title
    if kind == "dial_tests":
        assert ws["D4"].value == "0431-88612347" and "接通 0/1" in ws["F5"].value


def test_unknown_export_is_404(client_for, users):
    assert client_for(users["reviewer"]).get("/complaints/export/other.xlsx").status_code == 404
