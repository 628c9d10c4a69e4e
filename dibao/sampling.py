"""Reproducible random samples (入户抽查, 回访核实): order = md5(seed || id), so the same seed over the
same rows gives the same sample and anyone can re-draw it to check that nobody picked by hand."""
from __future__ import annotations

import math
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import MD5, Cast, Concat
from django.utils.translation import gettext as _


def clean_seed(seed: str) -> str:
    """The seed as recorded: the user's, or a random one when left empty."""
    return (seed or secrets.token_hex(8)).strip()[:32]


def sample_size(population: int, *, count: int | None, percent: Decimal | None) -> int:
    """How many to draw: a count, or a percentage of the population rounded up."""
    if (count is None) == (percent is None):
        raise ValidationError({"count": _("请填写抽查户数或抽查比例（二选一）")})
    if percent is not None:
        if not Decimal("0") < percent <= Decimal("100"):
            raise ValidationError({"percent": _("抽查比例应在 0 到 100 之间")})
        return math.ceil(Decimal(population) * percent / 100)
    if count < 1:
        raise ValidationError({"count": _("抽查户数至少为 1")})
    return count


def draw(queryset: QuerySet, *, seed: str, n: int, key: str = "id") -> list:
    """The values of `key` of the first `n` rows in md5(seed || key) order."""
    order = MD5(Concat(Value(seed), Cast(key, CharField())))
    return list(queryset.annotate(_draw_order=order).order_by("_draw_order").values_list(key, flat=True)[:n])
