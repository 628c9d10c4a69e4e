"""Lost updates: a `version` column that the service writing a row checks and increments.

Two people open the same household; the first saves, the second's save must not silently
overwrite the first's. The page (a hidden field) and the API (ETag / If-Match, or `version`
in the body) send back the version they read; the service compares it with the row it
re-fetched under `select_for_update`, so the check and the write are one step, and refuses
a stale write with `StaleVersion`. A caller that sends no version (imports, tasks, another
service) writes as before.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def version_field():
    # db_default: the set-based writers (imports' upsert, the rescreening engine) insert rows in SQL.
    return models.PositiveIntegerField(gettext_lazy("版本"), default=1, db_default=1, editable=False)


class StaleVersion(ValidationError):
    """The row changed since the caller read it. A ValidationError, so a page shows it at the
    top of the form it re-renders with what was typed; the API answers 412."""

    def __init__(self, label: str = ""):
        message = _("该记录已被他人修改，请刷新后重试")
        super().__init__(f"{label}：{message}" if label else message, code="stale")


def check_version(obj: models.Model, expected: int | None, *, label: str = "") -> None:
    """Refuse unless `expected` (the version the caller read) is the row's; None = not checked."""
    if expected is not None and int(expected) != obj.version:
        raise StaleVersion(label)



def version_form_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class VersionedFormMixin:
    """A ModelForm mixin: the hidden `version` the page was built from, sent back on save.
    After a refusal the re-rendered form keeps the stale version, so saving again is refused
    until the page is reloaded; what was typed stays on screen to be copied."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"] = version_form_field()
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
