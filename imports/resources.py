"""django-import-export resources of the registry kinds, built from imports.kinds.

They give the admin's import/export the same Chinese headers as the upload page and the
templates. They are the library's standard row-by-row path — fine for a handful of rows
in the admin; files of any size go through imports.pipeline (bench/bench_import.py
measures both).
"""
from __future__ import annotations

from functools import lru_cache

from import_export import fields, resources, widgets

from imports.kinds import get_kind

# kind → model, and the columns that are relations (attribute, related model path, lookup field)
_SPEC = {
    "households": ("cases.Household", {"region_code": ("region", "dibao.Region", "code")}),
    "members": ("cases.Member", {"household_no": ("household", "cases.Household", "household_no")}),
    "staff": ("cases.Staff", {"region_code": ("region", "dibao.Region", "code")}),
    "relatives": ("cases.RelativeFiling", {"staff_id_number": ("staff", "cases.Staff", "id_number"),
                                           "household_no": ("household", "cases.Household", "household_no")}),
}
_IMPORT_IDS = {
    "households": ["household_no"], "members": ["household", "id_number"],
    "staff": ["id_number"], "relatives": ["staff", "relative_id_number"],
}

_UNSTORED = {"covered_persons": lambda resource, household: 1 if household.single_coverage_id_number else None}


@lru_cache(maxsize=None)
def resource_for(kind_key: str) -> type[resources.ModelResource]:
    from django.apps import apps

    kind = get_kind(kind_key)
    model_path, relations = _SPEC[kind_key]
    model = apps.get_model(model_path)
    attrs = {}
    names = []
    for col in kind.columns:
        if not col.stored:
            # Not a field: exported as the import reads it back (保障人数: 1 for 单人保, else empty = all members).
            attrs[col.key] = fields.Field(column_name=col.header, readonly=True)
            attrs[f"dehydrate_{col.key}"] = _UNSTORED[col.key]
            names.append(col.key)
        elif col.key in relations:
            attribute, related, lookup = relations[col.key]
            widget = widgets.ForeignKeyWidget(apps.get_model(related), lookup)
            attrs[attribute] = fields.Field(attribute=attribute, column_name=col.header, widget=widget)
            names.append(attribute)
        else:
            model_field = model._meta.get_field(col.key)
            widget = resources.ModelResource.widget_from_django_field(model_field)(
                **resources.ModelResource.widget_kwargs_for_field(col.key, model_field))
            attrs[col.key] = fields.Field(attribute=col.key, column_name=col.header, widget=widget)
            names.append(col.key)
    meta = type("Meta", (), {"model": model, "fields": tuple(names), "import_id_fields": _IMPORT_IDS[kind_key],
                             "skip_unchanged": True, "report_skipped": False})
    attrs["Meta"] = meta
    return type(f"{model.__name__}Resource", (resources.ModelResource,), attrs)
