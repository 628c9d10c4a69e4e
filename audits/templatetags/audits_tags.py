from django import template

from dibao.idnumber import mask_id

register = template.Library()


@register.filter
def masked(value: str) -> str:
    return mask_id(value or "")


@register.simple_tag(takes_context=True)
def show_id(context, value: str) -> str:
    """The full ID for roles that may see it, the masked one for the rest."""
    user = context.get("user")
    return value if user is not None and user.can_see_full_id else mask_id(value or "")


@register.simple_tag(takes_context=True)
def evidence_value(context, row, field) -> str:
    """A cell of an evidence table; ID-number columns follow the viewer's role."""
    value = getattr(row, field.attname)
    if field.name.startswith("id_number"):
        return show_id(context, value)
    return "" if value is None else str(value)
