"""Audit records as people read them: field labels instead of column names."""
from functools import lru_cache

from django import template
from django.apps import apps

register = template.Library()


@lru_cache(maxsize=None)
def _labels(object_type: str) -> dict[str, str]:
    for model in apps.get_models():
        if model._meta.model_name == object_type:
            return {f.attname: str(f.verbose_name) for f in model._meta.concrete_fields}
    return {}


@register.filter
def audit_changes(record) -> list[tuple[str, object, object, bool]]:
    """(label, before, after, had_before) for each field the record changed."""
    labels = _labels(record.object_type)
    before = record.before or {}
    after = record.after or {}
    keys = list(after) or list(before)
    return [(labels.get(k, k), before.get(k), after.get(k), k in before and bool(after)) for k in keys]
