"""Names instead of codes on every page: `{{ code|region_name }}`, `{% region code %}` (the name, with
the code in its tooltip for whoever needs to quote it) and `{{ code|rule_name }}`.

Region names are read once per process and kept: the statistical division tree is loaded by
`load_regions` and does not change under a running server; a code not (yet) known is looked up
again next time instead of being remembered as missing.
"""
from __future__ import annotations

from django import template
from django.utils.html import format_html

from audits.catalogue import rule_name as _rule_name
from dibao.models import Region

register = template.Library()

_NAMES: dict[str, str] = {}


def region_name_of(code: str | None) -> str:
    code = str(code or "")
    if not code:
        return ""
    name = _NAMES.get(code)
    if name is None:
        name = Region.objects.filter(code=code).values_list("name", flat=True).first()
        if name is None:
            return code
        _NAMES[code] = name
    return name


@register.filter
def region_name(value) -> str:
    """A region's name from its code (or the Region itself); an unknown code is shown as it is."""
    if isinstance(value, Region):
        return value.name
    return region_name_of(value)


@register.simple_tag
def region(value, empty="—"):
    """The name with the code in the tooltip, for lists and detail pages."""
    code = value.code if isinstance(value, Region) else str(value or "")
    if not code:
        return empty
    name = region_name(value)
    if name == code:
        return format_html('<span class="region-code">{}</span>', code)
    return format_html('<span class="region-name" title="{}">{}</span>', code, name)


@register.filter
def dataset_name(kind) -> str:
    """A cross-check data set's name (死亡人员) from its kind (`deaths`)."""
    from audits.models import RefKind
    return str(dict(RefKind.choices).get(str(kind), kind))


@register.filter
def rule_name(code) -> str:
    return _rule_name(str(code or ""))
