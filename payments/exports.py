"""The bank file (payments.md) and the reconciliation workbook, through dibao/spreadsheets.py.

`.csv` is the machine form the bank reads: the English keys, one row per roll line, amounts
with two decimals. `.xlsx` is the formatted form: title (未审批 while the roll is not approved),
填报单位, the lines grouped by township each closed by its 小计, and a 合计 row.
"""
from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from django.utils import timezone

from dibao.idnumber import mask_id
from dibao.permissions import region_name
from dibao.spreadsheets import Column, CsvWriter, Workbook

CSV_KEYS = ["household_no", "payee_name", "payee_id_number", "account_no", "bank_name", "amount", "region_code"]
ZERO = Decimal("0.00")


def _lines(roll):
    return (roll.lines.order_by("region_code", "household_no")
            .values_list("household_no", "payee_name", "payee_id_number", "account_no", "bank_name", "amount",
                         "region_code").iterator(chunk_size=5000))


def write_roll_csv(roll, stream, *, full_ids: bool) -> int:
    writer = CsvWriter(stream)
    writer.writerow(CSV_KEYS)
    n = 0
    for no, name, id_number, account, bank, amount, region in _lines(roll):
        writer.writerow([no, name, id_number if full_ids else mask_id(id_number), account, bank, f"{amount:.2f}",
                         region])
        n += 1
    return n


def roll_title(roll) -> str:
    title = f"{region_name(roll.region_code)}{roll.month:%Y年%m月}农村低保金发放名册"
    return title if roll.is_approved else f"{title}（未审批）"


def write_roll_xlsx(roll, target, *, full_ids: bool) -> int:
    book = Workbook(target)
    columns = [Column("序号", "int", 6), Column("户编号", "id", 14), Column("收款人姓名", "text", 8),
               Column("收款人身份证号", "id", 20), Column("银行账号", "id", 22), Column("开户银行", "text", 16),
               Column("发放金额（元）", "money", 12), Column("区划代码", "id", 12)]
    sheet = book.form_sheet("发放名册", title=roll_title(roll), unit=region_name(roll.region_code),
                            filled_on=timezone.localdate(), columns=columns)
    n, total = 0, ZERO
    for township, lines in groupby(_lines(roll), key=lambda line: line[6][:9]):
        count, subtotal = 0, ZERO
        for no, name, id_number, account, bank, amount, region in lines:
            n += 1
            count += 1
            subtotal += amount
            sheet.row([n, no, name, id_number if full_ids else mask_id(id_number), account, bank, amount, region])
        total += subtotal
        sheet.total(["", f"{region_name(township)}小计", f"{count} 户", "", "", "", subtotal, township])
    sheet.total(["合计", "", f"{n} 户", "", "", "", total, ""])
    book.save()
    return n


def write_reconciliation_xlsx(result, target) -> None:
    """The four lists of a reconciliation, one sheet each after the summary."""
    from payments.selectors import RECONCILIATION_GROUPS

    book = Workbook(target)
    summary = book.form_sheet("汇总", title=f"{result.title}对账表", unit=result.unit, filled_on=timezone.localdate(),
                              columns=[Column("类别", "text", 24), Column("户数", "int"),
                                       Column("名册金额（元）", "money"), Column("实发金额（元）", "money")])
    for key, label in RECONCILIATION_GROUPS:
        group = result.groups[key]
        summary.row([label, group.count, group.rolled, group.paid])
    summary.total(["合计", result.total_count, result.total_rolled, result.total_paid])
    for key, label in RECONCILIATION_GROUPS:
        sheet = book.table_sheet(label, columns=[Column("户编号", "id", 14), Column("户主姓名", "text", 8),
                                                 Column("区划代码", "id", 12), Column("名册金额（元）", "money"),
                                                 Column("实发金额（元）", "money"), Column("交易流水号", "text", 30)])
        sheet.rows([row.household_no, row.name, row.region_code, row.rolled, row.paid, row.txn_nos]
                   for row in result.groups[key].rows)
    book.save()
