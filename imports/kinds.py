"""The column declarations of every import kind (spec/formats.md), in one table.

Each `Column` names its Chinese header, English key, whether it is required, how a cell
is parsed and which SQL type it is staged as. The import pipeline, the downloadable
templates, the exports and the django-import-export resources all read these tables,
so a header is spelled in exactly one place.

Parsers take a cell already normalised by `clean_cell` (a str, or the date / number /
bool object an .xlsx cell holds) and return the value to store, or raise `CellError`
with a reason in Chinese and in English.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from collections import namedtuple
from operator import attrgetter, mul
from typing import Any, Callable, Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dibao import idnumber
from dibao.validators import control_character
from dibao.models import CODE_LENGTHS, natural_code


class CellError(Exception):
    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh = zh
        self.en = en


# --------------------------------------------------------------------------- normalisation
_FULLWIDTH = idnumber._FULLWIDTH  # the one table of full-width → half-width characters


def clean_cell(value):
    """Strip spaces (incl. full-width) and turn full-width digits/letters half-width.

    Non-text cells (numbers, dates from .xlsx) pass through unchanged; parsers decide.
    """
    if value is None:
        return ""
    if value.__class__ is str:
        if not value.isascii():
            value = value.translate(_FULLWIDTH)
        return value.strip()
    return value


# --------------------------------------------------------------------------- parsers
CONTROL_EN = "contains an invisible control character; delete it and import again"


def parse_text(max_length: int):
    def parse(value) -> str:
        if not isinstance(value, str):
            value = _number_text(value)
        if reason := control_character(value):
            raise CellError(reason, CONTROL_EN)
        if len(value) > max_length:
            raise CellError(f"内容过长：最多 {max_length} 个字符，当前 {len(value)} 个",
                            f"too long: at most {max_length} characters, got {len(value)}")
        return value
    parse.max_length = max_length
    return parse


def _number_text(value) -> str:
    """A number typed into a text column (a phone number, a plate): show it as typed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


ID_AS_NUMBER = ("身份证号被存成了数字，丢失了末尾数字；请把该列设为文本格式后重新填写",
                "ID number was stored as a number and lost digits; format the column as text and re-enter it")
_ID_MESSAGES_EN = {
    "required": "ID number is empty",
    "number": ID_AS_NUMBER[1],
    "length": "an ID number has 18 characters",
    "format": "an ID number is 17 digits followed by a digit or X",
    "birth_date": "the birth date inside the ID number does not exist",
    "checksum": "wrong check digit (last character) of the ID number",
}
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_DIGIT_BIAS = 48 * sum(_ID_WEIGHTS)  # the weights are applied to ASCII codes, not digit values
_ID_CHECK = "10X98765432"


@lru_cache(maxsize=65536)
def _valid_birth(yyyymmdd: str) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return dt.date(1880, 1, 1) <= born <= dt.date.today()


def parse_id(value) -> str:
    """GB 11643 resident ID. The fast path accepts a well-formed number outright; anything
    else goes through dibao.idnumber.validate_id for the reason a caseworker can act on."""
    if not isinstance(value, str):
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            raise CellError(*ID_AS_NUMBER)
        value = str(value)
    if value[-1:] == "x":
        value = value[:-1] + "X"
    if (len(value) == 18 and value.isascii() and value[:17].isdigit() and _valid_birth(value[6:14])
            and _ID_CHECK[(sum(map(mul, value[:17].encode(), _ID_WEIGHTS)) - _ID_DIGIT_BIAS) % 11] == value[17]):
        return value
    try:
        return idnumber.validate_id(value)
    except ValidationError as exc:
        if exc.code == "number":
            raise CellError(*ID_AS_NUMBER)
        raise CellError(str(exc.messages[0]), _ID_MESSAGES_EN.get(exc.code, "invalid ID number"))


_DATE_RES = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


@lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> dt.date:
    if text.endswith(" 00:00:00"):  # what some tools write for a date-only cell
        text = text[:-9]
    for pattern in _DATE_RES:
        m = pattern.fullmatch(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise CellError(f"日期 {text} 不存在", f"date {text} does not exist")
    raise CellError("日期格式应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYY年M月D日",
                    "dates are written YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日")


def parse_date(value) -> dt.date:
    if isinstance(value, str):
        return _parse_date_text(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))  # an Excel date serial in a number-formatted cell
    raise CellError("日期格式应为 YYYY-MM-DD", "dates are written YYYY-MM-DD")


_MONEY_STRIP = str.maketrans("", "", ",，￥¥元 ")
_MONEY_RE = re.compile(r"\d+(\.\d{1,2})?")


def parse_money(value) -> Decimal:
    if isinstance(value, bool):
        raise CellError("金额应为数字", "amount must be a number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.2f}"
        if text.endswith(".0"):
            text = text[:-2]
    else:
        text = str(value).translate(_MONEY_STRIP)
    if not _MONEY_RE.fullmatch(text):
        if re.fullmatch(r"\d+\.\d{3,}", text):
            raise CellError("金额最多保留 2 位小数", "at most 2 decimal places")
        if text.startswith("-"):
            raise CellError("金额不能为负数", "amount cannot be negative")
        raise CellError("金额应为数字（元），如 1234.50", "amount must be a number of yuan, e.g. 1234.50")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError("金额应为数字（元）", "amount must be a number of yuan")
    if amount >= Decimal("1e8"):
        raise CellError("金额过大", "amount too large")
    return amount


_MONTH_RES = (re.compile(r"(\d{4})-(\d{1,2})"), re.compile(r"(\d{4})/(\d{1,2})"), re.compile(r"(\d{4})(\d{2})"),
              re.compile(r"(\d{4})年(\d{1,2})月"))


def parse_month(value) -> dt.date:
    """A pay month: YYYY-MM, YYYY/MM, YYYYMM, YYYY年M月, or a real date cell (its month); stored as the first day."""
    if isinstance(value, (dt.date, dt.datetime)):
        return (value.date() if isinstance(value, dt.datetime) else value).replace(day=1)
    text = _number_text(value) if not isinstance(value, str) else value
    for pattern in _MONTH_RES:
        m = pattern.fullmatch(text)
        if m and 1 <= int(m[2]) <= 12 and int(m[1]) >= 1:  # year 0 does not exist
            return dt.date(int(m[1]), int(m[2]), 1)
    raise CellError("发放月份应写作 YYYY-MM、YYYY/MM、YYYYMM 或 YYYY年M月", "the pay month is written YYYY-MM, YYYY/MM, YYYYMM or YYYY年M月")


def parse_positive_money(value) -> Decimal:
    amount = parse_money(value)
    if amount <= 0:
        raise CellError("发放金额应大于 0", "the amount must be above 0")
    return amount


def parse_household_no(value) -> str:
    """户编号 of the bank's file: text; a number cell has lost leading zeros already."""
    if not isinstance(value, str):
        raise CellError("户编号被存成了数字，可能丢失了开头的 0；请把该列设为文本格式后重新填写",
                        "household_no was stored as a number and may have lost leading zeros; format the column as text")
    return parse_text(32)(value)


def parse_account(value) -> str:
    """A bank or 一卡通 account: 10–30 digits kept as text; a number cell has lost digits already."""
    if not isinstance(value, str):
        raise CellError("收款账号被存成了数字，可能丢失了末尾数字；请把该列设为文本格式后重新填写",
                        "account number was stored as a number and may have lost digits; format the column as text")
    text = value.replace(" ", "")
    if not text.isdigit() or not 10 <= len(text) <= 30:
        raise CellError("收款账号应为 10–30 位数字", "an account number is 10 to 30 digits")
    return text


def parse_covered_persons(value) -> int:
    text = _number_text(value) if not isinstance(value, str) else value
    if not text.isdigit() or int(text) < 1:
        raise CellError("保障人数应为正整数（全部成员数，或单人保填 1）",
                        "covered persons is a positive whole number (all members, or 1 for single coverage)")
    return int(text)


_TRUE = {"是", "y", "yes", "true", "1", "t"}
_FALSE = {"否", "n", "no", "false", "0", "f"}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("应填 是/否（或 Y/N、true/false、1/0）", "expected 是/否, Y/N, true/false or 1/0")


def parse_choice(options: dict[str, str]):
    """options: accepted spelling → stored value (Chinese label and English key both map)."""
    lookup = {k.lower(): v for k, v in options.items()}
    shown = " / ".join(dict.fromkeys(options))

    def parse(value) -> str:
        text = _number_text(value) if not isinstance(value, str) else value
        try:
            return lookup[text.lower()]
        except KeyError:
            raise CellError(f"取值应为：{shown}", f"must be one of: {shown}")
    parse.options = options
    return parse


def choices_of(text_choices, *, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """A TextChoices class → {Chinese label: key, key: key}."""
    mapping = {}
    for value, label in text_choices.choices:
        mapping[str(label)] = value
        mapping[value] = value
    mapping.update(aliases or {})
    return mapping


def plain_choices(*values: str) -> dict[str, str]:
    return {v: v for v in values}


_LEVELS = {"1": 1, "2": 2, "3": 3, "4": 4, "一级": 1, "二级": 2, "三级": 3, "四级": 4,
           "一": 1, "二": 2, "三": 3, "四": 4, "1级": 1, "2级": 2, "3级": 3, "4级": 4}


def parse_level(value) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (1, 2, 3, 4):
        return int(value)
    try:
        return _LEVELS[str(value)]
    except KeyError:
        raise CellError("残疾等级应为 1–4（或 一级 … 四级）", "disability level must be 1-4 (or 一级 … 四级)")


def parse_region(lengths: tuple[int, ...] = CODE_LENGTHS):
    """A statistical code at natural length or zero-padded to 12 digits → natural length."""
    names = {2: "省", 4: "市", 6: "县", 9: "乡镇", 12: "村（居）"}
    allowed_zh = "、".join(f"{n} 位{names[n]}" for n in lengths)

    def parse(value) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = _number_text(value)
        text = str(value)
        if not text.isdigit() or len(text) not in (2, 4, 6, 9, 12):
            raise CellError("区划代码应为 2/4/6/9/12 位数字", "a region code is 2, 4, 6, 9 or 12 digits")
        code = natural_code(text)
        if len(code) not in lengths:
            raise CellError(f"区划代码应为{allowed_zh}代码", f"region code must be a code of length {lengths}")
        return code
    parse.lengths = lengths
    return parse


# --------------------------------------------------------------------------- declarations
@dataclass(frozen=True)
class Column:
    header: str
    key: str
    parse: Callable[[Any], Any]
    required: bool = False
    sql_type: str = "text"            # text | date | money | bool | int
    default: Any = ""                 # the value stored for an empty optional cell
    is_id: bool = False               # written as text ('@') in templates
    stored: bool = True               # False: checked on import, not a field of the target table


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    registry: bool
    row_check: Callable[[tuple, list], Iterator[tuple[int, str, str, str]]] | None = None
    by_key: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        self.by_key.update({c.key: c for c in self.columns})

    def column(self, key: str) -> Column:
        return self.by_key[key]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def _text(header, key, length, required=False, **kw):
    return Column(header, key, parse_text(length), required=required, **kw)


def _id(header, key, required=True):
    return Column(header, key, parse_id, required=required, is_id=True)


def _date(header, key, required=False):
    return Column(header, key, parse_date, required=required, sql_type="date", default=None)


def _money(header, key, required=False):
    return Column(header, key, parse_money, required=required, sql_type="money", default=None)


def _bool(header, key, default=False):
    return Column(header, key, parse_bool, sql_type="bool", default=default)


def _choice(header, key, options, required=False, default=""):
    return Column(header, key, parse_choice(options), required=required, default=default)


def _region(header, key, lengths=CODE_LENGTHS, required=True):
    return Column(header, key, parse_region(lengths), required=required, is_id=True)


# English for the cross-field reasons cases.services.check_household_rules gives in Chinese.
_RULE_EN = {
    "状态为在保、已退出或未通过时必须填写审批日期": "decided_on is required when status is active, exited or rejected",
    "状态为已退出时必须填写退出日期": "exited_on is required when status is exited",
    "在保家庭必须填写月保障金额": "monthly_amount is required when status is active",
    "月保障金额不能为负数": "monthly_amount cannot be negative",
    "审批日期不能早于申请日期": "decided_on cannot be before applied_on",
    "退出日期不能早于审批日期": "exited_on cannot be before decided_on",
    "户籍区划应选到乡镇（街道）或村（居）一级": "region must be a township or village code",
}
_RULE_FIELD_TO_KEY = {"region": "region_code"}


@lru_cache(maxsize=8)
def _row_type(keys: tuple[str, ...]):
    """A tuple whose fields read like a Household's attributes (region_id = region_code)."""
    base = namedtuple("HouseholdRow", keys)
    return type("HouseholdRow", (base,), {"__slots__": (), "region_id": property(attrgetter("region_code"))})


def household_rules(keys: tuple[str, ...], rows: list[tuple]) -> Iterator[tuple[int, str, str, str]]:
    """The registry's own cross-field rules (cases.services.check_household_rules) over parsed
    rows; yields (index, column key, reason, English reason) for each rule broken."""
    from cases.services import check_household_rules

    make = _row_type(keys)._make
    for i, row in enumerate(rows):
        if row is None:
            continue
        try:
            check_household_rules(make(row))
        except ValidationError as exc:
            for fld, messages in exc.message_dict.items():
                for msg in messages:
                    yield i, _RULE_FIELD_TO_KEY.get(fld, fld), msg, _RULE_EN.get(msg, msg)


def standard_rules(keys: tuple[str, ...], rows: list[tuple]) -> Iterator[tuple[int, str, str, str]]:
    at = keys.index("monthly_standard")
    for i, row in enumerate(rows):
        if row is not None and row[at] is not None and row[at] <= 0:
            yield i, "monthly_standard", "月保障标准应大于 0", "the monthly standard must be above 0"


_LIST_SEPARATORS = re.compile(r"[、,，;；]")


def parse_list(options: tuple[str, ...]):
    """One or more of `options` separated by 、 or a comma; stored as the JSON list the model holds."""
    import json

    shown = "、".join(options)

    def parse(value) -> str:
        text = _number_text(value) if not isinstance(value, str) else value
        items = [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]
        unknown = [item for item in items if item not in options]
        if unknown:
            raise CellError(f"“{'、'.join(unknown)}”不是可选的类型；可选：{shown}",
                            f"{', '.join(unknown)} not among: {shown}")
        return json.dumps(list(dict.fromkeys(items)))
    return parse


def parse_campaign_no(value) -> int:
    text = _number_text(value) if not isinstance(value, str) else value
    if not text.isdigit():
        raise CellError("活动编号应为数字（见排查活动页面）", "campaign_no is the number shown on the campaign page")
    return int(text)


def _screeners(value) -> str:
    text = parse_text(100)(value)
    names = [n.strip() for n in _LIST_SEPARATORS.split(text) if n.strip()]
    if not 1 <= len(names) <= 2:
        raise CellError("排查人应为一至两人，用“、”或逗号分隔", "one or two screeners, separated by 、 or a comma")
    return "、".join(names)


def screening_rules(keys: tuple[str, ...], rows: list[tuple]) -> Iterator[tuple[int, str, str, str]]:
    """The in-row contradictions of campaigns.md, as the campaign's own service states them."""
    import json

    from campaigns.services import contradictions

    at = {key: keys.index(key) for key in ("result", "problem_types", "handling")}
    for i, row in enumerate(rows):
        if row is None:
            continue
        errors = contradictions(result=row[at["result"]], problem_types=json.loads(row[at["problem_types"]] or "[]"),
                                handling=row[at["handling"]])
        for key, message in errors.items():
            yield i, key, message, message


def _build_kinds() -> dict[str, Kind]:
    from cases import models as c

    rel_other = {"村（居）委会干部": "village_cadre", "村居委会干部": "village_cadre"}
    kinds = [
        Kind("households", _("低保家庭"), (
            _text("户编号", "household_no", 32, required=True),
            _region("区划代码", "region_code", lengths=(9, 12)),
            _text("户主姓名", "head_name", 50, required=True),
            _id("户主身份证号", "head_id_number"),
            _choice("保障类别", "category", choices_of(c.Category), default=c.Category.RURAL.value),
            _choice("状态", "status", choices_of(c.Status), required=True),
            _date("申请日期", "applied_on", required=True),
            _date("审批日期", "decided_on"),
            _date("退出日期", "exited_on"),
            _text("退出原因", "exit_reason", 200),
            _text("未通过原因", "rejection_reason", 200),
            _money("月保障金额", "monthly_amount"),
            _choice("致贫原因", "poverty_cause", choices_of(c.PovertyCause)),
            _choice("分类管理", "management_class", plain_choices("A", "B", "C"), default="B"),
            _date("最近复核日期", "last_reviewed_on"),
            _bool("建档立卡户", "registered_poor"),
            _text("联系电话", "phone", 30),
            Column("保障人数", "covered_persons", parse_covered_persons, sql_type="int", default=None, stored=False),
            _id("单人保对象身份证号", "single_coverage_id_number", required=False),
            _id("收款人身份证号", "payee_id_number", required=False),
            Column("收款账号", "account_no", parse_account, is_id=True),
            _text("开户银行", "bank_name", 100),
        ), ("household_no",), True, household_rules),
        Kind("members", _("家庭成员"), (
            _text("户编号", "household_no", 32, required=True),
            _text("姓名", "name", 50, required=True),
            _id("身份证号", "id_number"),
            _choice("与户主关系", "relation", choices_of(c.Relation), required=True),
            _choice("残疾类别", "disability_category", choices_of(c.DisabilityCategory)),
            Column("残疾等级", "disability_level", parse_level, sql_type="int", default=None),
            _bool("重病", "serious_illness"),
            _choice("劳动能力", "labour_capacity", choices_of(c.LabourCapacity)),
            _money("月收入", "monthly_income"),
        ), ("household_no", "id_number"), True),
        Kind("staff", _("工作人员名册"), (
            _text("姓名", "name", 50, required=True),
            _id("身份证号", "id_number"),
            _choice("人员类别", "staff_type", choices_of(c.StaffType, aliases=rel_other), required=True),
            _text("工作单位", "employer", 100),
            _text("职务", "position", 50),
            _region("区划代码", "region_code"),
        ), ("id_number",), True),
        Kind("relatives", _("近亲属备案"), (
            _id("备案人身份证号", "staff_id_number"),
            _text("亲属姓名", "relative_name", 50, required=True),
            _id("亲属身份证号", "relative_id_number"),
            _choice("关系", "relation", choices_of(c.KinRelation), required=True),
            _text("户编号", "household_no", 32),
            _date("备案日期", "filed_on", required=True),
        ), ("staff_id_number", "relative_id_number"), True),
    ]
    kinds.append(Kind("standards", _("保障标准"), (
        _region("区划代码", "region_code", lengths=(2, 4, 6)),
        _choice("保障类别", "category", choices_of(c.Category), required=True),
        _money("月保障标准", "monthly_standard", required=True),
        _date("生效日期", "effective_from", required=True),
    ), ("region_code", "category", "effective_from"), True, standard_rules))
    from campaigns import models as cm

    kinds.append(Kind("screenings", _("排查记录"), (
        Column("活动编号", "campaign_no", parse_campaign_no, required=True, sql_type="int", default=None),
        _text("户编号", "household_no", 32, required=True),
        _date("排查日期", "screened_on", required=True),
        Column("排查人", "screeners", _screeners, required=True),
        _choice("排查结果", "result", choices_of(cm.ScreeningResult), required=True),
        Column("问题类型", "problem_types", parse_list(tuple(cm.ProblemType.values)), default="[]"),
        _choice("处理情况", "handling", choices_of(cm.Handling)),
        _text("备注", "note", 1000),
    ), ("campaign_no", "household_no"), True, screening_rules))
    from payments.models import PaymentStatus

    kinds.append(Kind("payments", _("发放记录"), (
        _text("交易流水号", "txn_no", 40, required=True),
        Column("发放月份", "pay_month", parse_month, required=True, sql_type="date", default=None),
        Column("户编号", "household_no", parse_household_no, required=True, is_id=True),
        _text("收款人姓名", "payee_name", 50, required=True),
        _id("收款人身份证号", "payee_id_number"),
        Column("银行账号", "account_no", parse_account, required=True, is_id=True),
        Column("发放金额", "amount", parse_positive_money, required=True, sql_type="money", default=None),
        _date("发放日期", "paid_on", required=True),
        _choice("发放状态", "status", choices_of(PaymentStatus), default=PaymentStatus.SUCCESS.value),
    ), ("txn_no",), True))
    kin = choices_of(c.KinRelation)
    disability = choices_of(c.DisabilityCategory)
    ref = [
        Kind("deaths", _("死亡人员"), (
            _text("姓名", "name", 50, required=True), _id("身份证号", "id_number"),
            _date("死亡日期", "death_date", required=True),
        ), ("id_number",), False),
        Kind("disability", _("残疾人"), (
            _text("姓名", "name", 50, required=True), _id("身份证号", "id_number"),
            _choice("残疾类别", "category", disability, required=True),
            Column("残疾等级", "level", parse_level, required=True, sql_type="int", default=None),
            _region("区划代码", "region_code", required=False),
        ), ("id_number",), False),
        Kind("illness", _("重病患者"), (
            _text("姓名", "name", 50, required=True), _id("身份证号", "id_number"),
            _text("病种", "disease", 100, required=True), _date("确诊日期", "diagnosed_on"),
            _region("区划代码", "region_code", required=False),
        ), ("id_number", "disease"), False),
        Kind("poverty", _("建档立卡贫困人口"), (
            _text("姓名", "name", 50, required=True), _id("身份证号", "id_number"),
            _text("扶贫户编号", "poverty_household_no", 50),
            _region("区划代码", "region_code", required=False),
        ), ("id_number",), False),
        Kind("payroll", _("财政供养人员"), (
            _text("姓名", "name", 50, required=True), _id("身份证号", "id_number"),
            _text("工作单位", "employer", 200, required=True),
        ), ("id_number", "employer"), False),
        Kind("vehicles", _("机动车登记"), (
            _id("身份证号", "id_number"), _text("号牌号码", "plate_no", 20, required=True),
            _text("车辆类型", "vehicle_type", 50, required=True), _date("登记日期", "registered_on"),
        ), ("plate_no",), False),
        Kind("business", _("市场主体登记"), (
            _id("身份证号", "id_number"), _text("企业名称", "company_name", 200, required=True),
            _text("统一社会信用代码", "credit_code", 18),
            _money("注册资本（万元）", "registered_capital"),
            _choice("登记状态", "status", plain_choices("存续", "在业", "注销", "吊销"), required=True),
        ), ("id_number", "company_name"), False),
        Kind("property", _("不动产登记"), (
            _id("身份证号", "id_number"), _text("不动产单元号", "unit_no", 40, required=True),
            _choice("用途", "usage", plain_choices("住宅", "商业", "工业", "其他"), required=True),
            _money("面积（㎡）", "area"),
        ), ("unit_no", "id_number"), False),
        Kind("kinship", _("户籍亲属关系"), (
            _id("身份证号A", "id_number_a"), _id("身份证号B", "id_number_b"),
            _choice("关系", "relation", kin, required=True),
        ), ("id_number_a", "id_number_b"), False),
    ]
    return {k.key: k for k in kinds + ref}


@lru_cache(maxsize=1)
def all_kinds() -> dict[str, Kind]:
    return _build_kinds()


def get_kind(key: str) -> Kind:
    return all_kinds()[key]


REGISTRY_KINDS = ("households", "members", "staff", "relatives")
STANDARD_KINDS = ("standards",)
SCREENING_KINDS = ("screenings",)
PAYMENT_KINDS = ("payments",)
REF_KINDS = ("deaths", "disability", "illness", "poverty", "payroll", "vehicles", "business", "property", "kinship")
