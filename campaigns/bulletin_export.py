"""The bulletin workbook (进度通报, reports.md v2; seed 000): one frozen bulletin as a statistics
form, with the change since the previous bulletin and the reports owed that are late."""
from __future__ import annotations

from django.utils.translation import gettext as _

from campaigns import progress
from campaigns.dispatch_selectors import ReportState
from campaigns.models import Bulletin
from dibao.spreadsheets import Column, Workbook


def write_bulletin_workbook(bulletin: Bulletin, previous: Bulletin | None, target, *, exported_by: str = "") -> None:
    snapshot = bulletin.snapshot
    region = snapshot["region"]
    delta = progress.change(snapshot, previous.snapshot if previous else None)
    columns = [Column(_("区划代码"), "id", 12), Column(_("地区"), "text", 14)]
    columns += [Column(str(label), "int") for _key, label in progress.FIGURES]
    columns += [Column(_("乡镇完成比例（%）"), "text"), Column(_("户完成比例（%）"), "text"),
                Column(_("较上期新增排查（户）"), "int"), Column(_("进度"), "text", 10),
                Column(_("差距"), "text", 24)]
    book = Workbook(target, author=exported_by)
    title = _("%(unit)s%(campaign)s日调度通报（%(day)s）") % {
        "unit": region["name"], "campaign": bulletin.campaign.name, "day": f"{bulletin.day:%Y-%m-%d}"}
    sheet = book.form_sheet(_("进度通报"), title=title, unit=region["name"], filled_on=bulletin.day, columns=columns,
                            exported_by=exported_by)
    for row in snapshot["children"]:
        sheet.row(_cells(row, delta))
    sheet.total([_("合计"), *_cells(region, delta)[1:]])

    owed = book.form_sheet(_("逾期报送"), title=_("%(unit)s逾期报送情况（%(day)s）") % {
        "unit": region["name"], "day": f"{bulletin.day:%Y-%m-%d}"}, unit=region["name"], filled_on=bulletin.day,
        columns=[Column(_("报送事项"), "text", 20), Column(_("截止日期"), "text", 11), Column(_("区划代码"), "id", 12),
                 Column(_("报送单位"), "text", 14), Column(_("状态"), "text", 10)],
        exported_by=exported_by)
    for item in snapshot.get("reports", []):
        owed.row([item["title"], item["due_on"], item["region_code"], item["region_name"],
                  str(ReportState.LABELS[item["state"]])])
    owed.total([_("合计"), _("%(n)d 项") % {"n": len(snapshot.get("reports", []))}, "", "", ""])
    book.save()


def _cells(row: dict, delta: dict) -> list:
    f = row["figures"]
    change = delta.get(row["code"], {}).get("households_screened") if delta else None
    return [row["code"], row["name"], *[f.get(key, 0) for key in progress.KEYS],
            f"{progress.percent(f['townships_screened'], f['townships_total']):.1f}%",
            f"{progress.percent(f['households_screened'], f['households_total']):.1f}%",
            change if change is not None else "", progress.standing_label(row["standing"]),
            progress.describe_shortfall(row)]
