from django import template
from django.utils.translation import gettext_lazy as _

from audits.models import RefKind
from dibao.idnumber import mask_id

register = template.Library()


@register.filter
def masked(value: str) -> str:
    return mask_id(value or "")


@register.simple_tag
def evidence_value(row, field) -> str:
    """A cell of an evidence table. ID numbers are masked: the finding's own number is revealed
    (audited) next to its name; the rest are cross-check rows matched on it."""
    value = getattr(row, field.attname)
    if field.name.startswith("id_number"):
        return mask_id(value or "")
    return "" if value is None else str(value)


_PARAM_LABELS = {
    "DECEASED_GRACE_DAYS": _("死亡后宽限天数"),
    "PROPERTY_MAX_HOMES": _("住房套数上限"),
    "EXITED_SINCE": _("退保人员起算日"),
    "REJECTED_SINCE": _("未通过申请起算日"),
    "REVIEW_INTERVAL_MONTHS": _("复核周期（月，按分类）"),
    "VEHICLE_EXEMPT_TYPES": _("不计入的车辆类型"),
    "BUSINESS_ACTIVE_STATUSES": _("视为经营中的市场主体状态"),
    "PROPERTY_HOME_USAGE": _("计入的房屋用途"),
    "AMOUNT_TOLERANCE": _("金额比对容差（元）"),
    "PAYMENT_LOOKBACK_MONTHS": _("资金发放回看月数"),
    "ref_versions": _("比对数据版本"),
}


def _plain(value) -> str:
    if isinstance(value, dict):
        return "；".join(f"{k}：{_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(_plain(v) for v in value)
    return str(value)


def _versions(value: dict) -> str:
    # {kind: [version id, version number]}: the data set's name and the number users see on imports.
    labels = dict(RefKind.choices)
    return "；".join(f"{labels.get(kind, kind)} v{v[1]}" for kind, v in value.items())


@register.filter
def batch_params(params: dict | None) -> list[tuple[str, str]]:
    """A batch's rule parameters as (label, value) lines instead of a Python dict."""
    return [(str(_PARAM_LABELS.get(k, k)), _versions(v) if k == "ref_versions" else _plain(v))
            for k, v in (params or {}).items()]
