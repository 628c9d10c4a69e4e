"""Resident ID numbers (GB 11643): normalisation, validation, derived facts, masking.

Birth date and check digit come from python-stdnum's `stdnum.cn.ric`; this module adds the normalisation formats.md asks for and messages a caseworker can act on.
"""
from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_SCI_NOTATION = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def normalize_text(value) -> str:
    """Strip ordinary and full-width spaces, turn full-width digits/letters half-width."""
    if value is None:
        return ""
    return str(value).translate(_FULLWIDTH).strip()


def normalize_id(value) -> str:
    return normalize_text(value).replace(" ", "").upper()


def validate_id(value) -> str:
    """Return the normalised ID number or raise ValidationError with a Chinese reason."""
    raw = normalize_id(value)
    if not raw:
        raise ValidationError(_("身份证号不能为空"), code="required")
    if _SCI_NOTATION.match(raw):
        raise ValidationError(
            _("身份证号被 Excel 存成了数字，已丢失末尾数字；请把该列设为文本格式后重新填写"), code="number")
    if len(raw) != 18:
        raise ValidationError(_("身份证号应为 18 位，当前为 %(n)d 位") % {"n": len(raw)}, code="length")
    if not re.fullmatch(r"\d{17}[\dX]", raw):
        raise ValidationError(_("身份证号只能由数字组成，最后一位可以是 X"), code="format")
    try:
        born = ric.get_birth_date(raw)
    except (stdnum_exc.ValidationError, ValueError):
        raise ValidationError(_("身份证号中的出生日期 %(d)s 不存在") % {"d": raw[6:14]}, code="birth_date")
    if born > dt.date.today():
        raise ValidationError(_("身份证号中的出生日期 %(d)s 晚于今天") % {"d": raw[6:14]}, code="birth_date")
    # Not ric.validate(): it also requires the birthplace code to have existed in the
    # birth year, but numbers were issued with the code in force at issue time, so it
    # would reject real people born before their county got its current code.
    expected = ric.calc_check_digit(raw)
    if raw[-1] != expected:
        raise ValidationError(_("身份证号校验位错误（最后一位应为 %(c)s），请核对号码") % {"c": expected},
                              code="checksum")
    return raw


def birth_date(id_number: str) -> dt.date:
    return ric.get_birth_date(id_number)


def sex(id_number: str) -> str:
    """'男' or '女' from the 17th digit (odd = male)."""
    return "男" if int(id_number[16]) % 2 else "女"


def age_on(id_number: str, on: dt.date) -> int:
    born = birth_date(id_number)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask_id(id_number: str) -> str:
    """`220102********1234`: enough to tell two people apart, never enough to use."""
    if not id_number:
        return ""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str) -> str:
    """`张**`: the surname stays, so a published case reads as about a person without naming them."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""
