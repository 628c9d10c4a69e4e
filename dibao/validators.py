"""Checks of what people type, shared by forms, serializers, models and the import files."""
import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# C0/C1 control characters except tab, line feed and carriage return (which a text area
# legitimately holds). PostgreSQL refuses NUL in text and openpyxl refuses the rest in a
# cell, so one such character pasted into a name used to break every export of the region.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_character(value: str) -> bool:
    return _CONTROL_RE.search(value) is not None


def control_character(value: str) -> str:
    """The reason `value` is refused (position and code point of its first control
    character), or "" when it holds none."""
    match = _CONTROL_RE.search(value)
    if match is None:
        return ""
    return _("第 %(pos)s 个字符是不可见的控制字符（U+%(code)04X），请删除后重新填写") % {
        "pos": match.start() + 1, "code": ord(match.group())}


def without_control_characters(value: str, replacement: str = "") -> str:
    """For showing or writing text stored before the check existed (exports, messages)."""
    return _CONTROL_RE.sub(replacement, value)


def validate_text(value) -> None:
    """The one check of every text a person types: forms (dibao.forms.TextInputMixin), the API (dibao.parsers)
    and import files (imports.kinds.parse_text)."""
    if isinstance(value, str) and (reason := control_character(value)):
        raise ValidationError(reason, code="control_character")


def not_in_future(value) -> None:
    """For dates of things that have happened (received, visited, decided, applied, filed…)."""
    today = timezone.localdate()
    day = value
    if isinstance(value, dt.datetime):
        day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if day is not None and day > today:
        raise ValidationError(_("日期 %(date)s 晚于今天（%(today)s）：只能填写已经发生的日期"),
                              code="future", params={"date": day.isoformat(), "today": today.isoformat()})


non_negative = MinValueValidator(0, message=_("不能为负数"))
# Persons disciplined in one referral, households sampled…: an office counts people, and a
# count beyond this is a typing error (and 10^12 overflows the database's integer).
MAX_PERSONS = 10_000
at_most_persons = MaxValueValidator(MAX_PERSONS, message=_("人数不能超过 %(limit_value)s"))
