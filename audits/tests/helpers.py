"""Test helpers: current reference versions with rows, and running a batch."""
import datetime as dt

from audits import engine, services
from audits.models import REF_MODELS, RefVersion

AS_OF = dt.date(2026, 10, 31)


def ref(kind: str, rows: list[dict], version_no: int | None = None) -> RefVersion:
    """Make a new current version of `kind` holding `rows` (the previous one stops being current)."""
    RefVersion.objects.filter(kind=kind, is_current=True).update(is_current=False)
    no = version_no or (RefVersion.objects.filter(kind=kind).count() + 1)
    version = RefVersion.objects.create(kind=kind, version_no=no, is_current=True, row_count=len(rows))
    model = REF_MODELS[kind]
    model.objects.bulk_create([model(version=version, **row) for row in rows])
    return version


def run(region: str = "", as_of: dt.date = AS_OF, actor="system"):
    batch = services.batch_create(actor=actor, region_code=region, as_of=as_of, enqueue=False)
    return engine.execute_batch(batch.pk)


def keys(batch, rule: str) -> set[tuple[str, str]]:
    """(household_no or '', id_number) of a batch's findings of one rule."""
    return {(f.household.household_no if f.household else "", f.id_number)
            for f in batch.findings.filter(rule=rule).select_related("household")}


def snapshot(batch) -> set[tuple]:
    return set(batch.findings.values_list("rule", "household_id", "id_number", "name", "region_code", "detail",
                                          "evidence_hash"))
