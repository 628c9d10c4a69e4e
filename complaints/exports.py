"""Excel ledgers: clue ledger, typical cases, rectification ledger, dial-test results.

Each workbook is a dibao.spreadsheets form sheet: title row, 填报单位/填报日期 (and who
downloaded it), Chinese headers, frozen header, 合计 row, A4 landscape. Rows are scoped to
the downloading user, and each download is audited.
"""
from __future__ import annotations

import tempfile
from decimal import Decimal

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from dibao.audit import audit_record
from dibao.spreadsheets import XLSX_CONTENT_TYPE, Column, Workbook
from complaints import selectors

TEXT, MONEY, INT, DATE = "text", "money", "int", "date"
# ledger → the permission-table action that downloads it (the page and the API ask the same)
EXPORT_ACTIONS = {"clues": "export.clues", "typical": "export.clues", "rectification": "export.rectification",
                  "dial_tests": "export.rectification"}


def build_workbook(target, *, title: str, unit: str, user, columns: list[tuple[str, str, int]], rows,
                   totals: dict[int, object]) -> int:
    """columns: (header, kind, width); totals: column index -> value (index 0 gets 合计). Returns the rows."""
    book = Workbook(target, author=user.get_username())
    sheet = book.form_sheet(title, title=title, unit=unit, filled_on=timezone.localdate(),
                            columns=[Column(header, kind, width) for header, kind, width in columns],
                            exported_by=user.get_username())
    count = sheet.rows(rows)
    sheet.total([_("合计（%(n)d 条）") % {"n": count}] + [totals.get(i, "") for i in range(1, len(columns))])
    book.save()
    return count


def _unit(user) -> str:
    return user.region.full_name if user.region_id else _("全国")


def _clue_rows(user, totals):
    for i, c in enumerate(selectors.clue_ledger_rows(user), start=1):
        r = getattr(c, "referral", None)
        persons = int(c.persons or 0)
        funds = r.funds_recovered if r else Decimal("0")
        totals["persons"] += persons
        totals["funds"] += funds
        yield [i, c.number, c.received_on, c.get_source_display(), c.get_channel_display() if c.channel else "",
               c.region.name, c.category, c.summary, c.people_involved, c.deadline, c.get_state_display(),
               r.body_name if r else "", r.referred_on if r else None, r.outcome if r else "", persons, funds,
               c.concluded_on]


def download(user, kind: str) -> FileResponse:
    today = timezone.localdate()
    unit = _unit(user)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx")
    if kind == "clues":
        totals = {"persons": 0, "funds": Decimal("0")}
        columns = [("序号", INT, 6), ("线索编号", TEXT, 22), ("受理日期", DATE, 12), ("线索来源", TEXT, 10),
                   ("渠道", TEXT, 8), ("所属区划", TEXT, 14), ("问题类型", TEXT, 10), ("线索摘要", TEXT, 40),
                   ("涉及人员", TEXT, 14), ("办理期限", DATE, 12), ("状态", TEXT, 12), ("移交机关", TEXT, 16),
                   ("移交日期", DATE, 12), ("调查结论", TEXT, 10), ("处理处分人数", INT, 10),
                   ("追回资金（元）", MONEY, 14), ("办结日期", DATE, 12)]
        rows = list(_clue_rows(user, totals))
        count = build_workbook(tmp, title=_("农村低保问题线索台账"), unit=unit, user=user, columns=columns, rows=rows,
                               totals={14: totals["persons"], 15: totals["funds"]})
    elif kind == "typical":
        columns = [("序号", INT, 6), ("通报月份", TEXT, 10), ("所属区划", TEXT, 14), ("标题", TEXT, 30),
                   ("案例摘要", TEXT, 70), ("线索编号", TEXT, 22), ("问题类型", TEXT, 10)]
        rows = [[i, t.month.strftime("%Y-%m"), t.region.name, t.title, t.summary, t.clue.number, t.clue.category]
                for i, t in enumerate(selectors.typical_cases(user), start=1)]
        count = build_workbook(tmp, title=_("农村低保领域典型案例"), unit=unit, user=user, columns=columns, rows=rows,
                               totals={})
    elif kind == "rectification":
        columns = [("序号", INT, 6), ("编号", TEXT, 22), ("所属区划", TEXT, 14), ("问题来源", TEXT, 10),
                   ("存在问题", TEXT, 36), ("整改措施", TEXT, 36), ("责任单位", TEXT, 16), ("责任人", TEXT, 10),
                   ("整改时限", DATE, 12), ("整改状态", TEXT, 12), ("是否超期", TEXT, 8), ("佐证材料", TEXT, 24),
                   ("销号日期", DATE, 12)]
        items = list(selectors.rectifications(user))
        rows = [[i, r.number, r.region.name, r.get_source_display(), r.problem, r.measures, r.responsible_unit,
                 r.responsible_person, r.deadline, r.get_status_display(),
                 _("是") if r.status == "open" and r.deadline < today else "", r.evidence, r.closed_on]
                for i, r in enumerate(items, start=1)]
        closed = sum(1 for r in items if r.status == "closed")
        count = build_workbook(tmp, title=_("农村低保专项治理整改台账"), unit=unit, user=user, columns=columns,
                               rows=rows, totals={9: _("已销号 %(n)d 项") % {"n": closed}})
    elif kind == "dial_tests":
        columns = [("序号", INT, 6), ("所属区划", TEXT, 14), ("受理单位", TEXT, 20), ("拨打号码", TEXT, 16),
                   ("拨打时间", TEXT, 18), ("有人接听", TEXT, 8), ("处置得当", TEXT, 8), ("情况记录", TEXT, 40),
                   ("督导人", TEXT, 10)]
        tests = list(selectors.dial_tests(user))
        yes, no = _("是"), _("否")
        rows = [[i, t.hotline.region.name, t.hotline.unit, t.number,
                 timezone.localtime(t.called_at).strftime("%Y-%m-%d %H:%M"), yes if t.answered else no,
                 "" if t.handled_properly is None else (yes if t.handled_properly else no), t.notes, str(t.caller)]
                for i, t in enumerate(tests, start=1)]
        answered = sum(1 for t in tests if t.answered)
        rate = f"{answered * 100 / len(tests):.1f}%" if tests else "—"
        count = build_workbook(tmp, title=_("投诉举报电话拨打督导情况表"), unit=unit, user=user, columns=columns,
                               rows=rows, totals={5: _("接通 %(a)d/%(n)d（%(r)s）") % {"a": answered, "n": len(tests),
                                                                                  "r": rate}})
    else:
        tmp.close()
        raise ValueError(kind)
    tmp.seek(0)
    audit_record(actor=user, action="export.download", object_type="complaints_export", object_id=kind,
                 region_code=user.region_id or "", after={"rows": count})
    filename = f"{kind}-{today.isoformat()}.xlsx"
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
