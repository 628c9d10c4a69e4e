"""The catalogue of rescreening rules (spec/rules.md): code, name, section, what one finding is, and the
clue category a confirmed finding becomes. Plain data, no SQL: models, pages, reports and the clue
ledger read rule names and sections here; `audits/rules.py` pairs each entry with its query.

Dependency direction: cases ← audits ← complaints ← reports. complaints and reports import this
module; audits never imports them at load time.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    section: str  # A wrongful inclusion, B the missed (five groups), C data quality, D funds (one per 户编号 and pay month)
    per_household: bool = False  # one finding per household rather than per person
    clue_category: str = "错保"  # the clue ledger's category when a finding is referred


CATALOGUE: list[RuleInfo] = [
    RuleInfo("DECEASED", _("死亡保"), "A", clue_category="死亡保"),
    RuleInfo("PUBLIC_PAYROLL", _("财政供养人员享受低保"), "A"),
    RuleInfo("STAFF_SELF", _("村干部/经办人员本人享受"), "A", clue_category="关系保"),
    RuleInfo("RELATIVE_FILED", _("近亲属享受（已备案）"), "A", clue_category="关系保"),
    RuleInfo("RELATIVE_UNFILED", _("近亲属享受（未备案）"), "A", clue_category="关系保"),
    RuleInfo("DUPLICATE", _("重复享受"), "A", clue_category="重复享受"),
    RuleInfo("ASSET_VEHICLE", _("名下有车辆"), "A"),
    RuleInfo("ASSET_BUSINESS", _("名下有市场主体"), "A"),
    RuleInfo("ASSET_PROPERTY", _("多套住房"), "A", per_household=True),
    RuleInfo("REVIEW_OVERDUE", _("长期未复核"), "A", per_household=True),
    RuleInfo("AMOUNT_MISMATCH", _("核定金额与补差不符"), "A", per_household=True),
    RuleInfo("MISSED_DISABLED", _("重度残疾人（含精神、智力三级）"), "B", clue_category="漏保"),
    RuleInfo("MISSED_ILLNESS", _("重病患者"), "B", clue_category="漏保"),
    RuleInfo("MISSED_POOR", _("未纳入低保的建档立卡贫困人口"), "B", clue_category="漏保"),
    RuleInfo("MISSED_EXITED", _("2016年以来退保人员"), "B", clue_category="漏保"),
    RuleInfo("MISSED_REJECTED", _("2017年以来未通过的申请人"), "B", clue_category="漏保"),
    RuleInfo("PAID_UNKNOWN", _("发放对象不在册"), "D", per_household=True, clue_category="虚报冒领"),
    RuleInfo("PAID_NOT_ACTIVE", _("不在保期间发放"), "D", per_household=True),
    RuleInfo("PAID_DECEASED", _("向已死亡人员发放"), "D", per_household=True, clue_category="死亡保"),
    RuleInfo("PAID_TWICE", _("重复发放"), "D", per_household=True, clue_category="重复享受"),
    RuleInfo("PAID_AMOUNT_MISMATCH", _("发放金额与核定金额不符"), "D", per_household=True),
    RuleInfo("SHARED_ACCOUNT", _("多户共用账户"), "D", per_household=True, clue_category="贪污侵占"),
    RuleInfo("PAYEE_NOT_MEMBER", _("收款人非家庭成员"), "D", per_household=True, clue_category="贪污侵占"),
    # raised by a payment verification visit (payments/verification.py), not by a rescreening batch
    RuleInfo("PAYMENT_VERIFY", _("回访发现问题"), "D", per_household=True, clue_category="截留私分"),
    RuleInfo("HEAD_NOT_MEMBER", _("户主不在家庭成员中"), "C", per_household=True),
    RuleInfo("AMOUNT_MISSING", _("月保障金额缺失"), "C", per_household=True),
]
BY_CODE: dict[str, RuleInfo] = {r.code: r for r in CATALOGUE}
# Worklists put the serious first (within section D, its own order): money paid to the dead or to salaried officials, then favouritism
# and double payment, then assets, and an overdue review last among the wrongful inclusions.
SEVERITY: list[str] = [
    "DECEASED", "PUBLIC_PAYROLL", "DUPLICATE", "STAFF_SELF", "RELATIVE_UNFILED", "RELATIVE_FILED",
    "AMOUNT_MISMATCH", "ASSET_VEHICLE", "ASSET_BUSINESS", "ASSET_PROPERTY", "REVIEW_OVERDUE",
    "MISSED_DISABLED", "MISSED_ILLNESS", "MISSED_POOR", "MISSED_EXITED", "MISSED_REJECTED",
    "HEAD_NOT_MEMBER", "AMOUNT_MISSING",
    # the money: taken or diverted first, then paid where nothing was due, then the wrong amount
    "PAID_DECEASED", "PAID_UNKNOWN", "PAYEE_NOT_MEMBER", "SHARED_ACCOUNT", "PAID_TWICE",
    "PAID_NOT_ACTIVE", "PAID_AMOUNT_MISMATCH", "PAYMENT_VERIFY",
]
assert sorted(SEVERITY) == sorted(BY_CODE), "every rule has exactly one place in the severity order"
RANK: dict[str, int] = {code: n for n, code in enumerate(SEVERITY)}
# Filters and forms offer rule names; codes stay in the machine CSV and the API.
RULE_CHOICES = [(r.code, r.name) for r in CATALOGUE]


def rule_name(code: str) -> str:
    info = BY_CODE.get(code)
    return str(info.name) if info else code


def section_of(code: str) -> str:
    return BY_CODE[code].section


def codes_of_section(section: str) -> list[str]:
    return [r.code for r in CATALOGUE if r.section == section]
