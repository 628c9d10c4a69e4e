"""Appending to and verifying the hash-chained audit trail.

Services call `audit_record(...)` inside their own transaction, so the record is
written if and only if the change is. Appends are serialised so two writers can never
chain onto the same predecessor: on PostgreSQL by a transaction-scoped advisory lock,
on SQLite by the database's single writer lock.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from dibao.models import AuditRecord

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x44494241  # "DIBA"


@dataclass
class RequestContext:
    request_id: str = ""
    ip: str | None = None


current_request: ContextVar[RequestContext] = ContextVar("current_request", default=RequestContext())


def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def to_jsonable(data):
    """Round-trip through JSON so what is hashed is exactly what the JSONField stores."""
    if data is None:
        return None
    return json.loads(json.dumps(data, default=_json_default, ensure_ascii=False))


def compute_hash(record: AuditRecord) -> str:
    content = {
        "created_at": record.created_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": str(record.object_id),
        "region_code": record.region_code,
        "before": record.before,
        "after": record.after,
        "note": record.note,
        "request_id": record.request_id,
        "ip": record.ip,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def model_snapshot(instance: models.Model, exclude: tuple[str, ...] = ()) -> dict:
    """Field values of a model instance, by attribute name (FKs as their ids)."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.attname] = getattr(instance, field.attname)
    return to_jsonable(data)


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only the keys that changed, so a record shows what was edited."""
    if not before or not after:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@transaction.atomic
def audit_record(*, actor, action: str, object_type: str, object_id, region_code: str = "",
                 before: dict | None = None, after: dict | None = None, note: str = "") -> AuditRecord:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    ctx = current_request.get()
    last = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    record = AuditRecord(
        created_at=timezone.now(),
        actor=actor_obj,
        actor_name=(actor.get_username() if actor_obj else (str(actor) if actor else "system")),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code or "",
        before=to_jsonable(before),
        after=to_jsonable(after),
        note=note,
        request_id=ctx.request_id,
        ip=ctx.ip,
        prev_hash=last or GENESIS_HASH,
    )
    record.hash = compute_hash(record)
    record.save(force_insert=True)
    return record


@dataclass
class ChainBreak:
    record_id: int
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in id order; return (records checked, first break or None)."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditRecord.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return checked, None
        for record in batch:
            if record.prev_hash != expected_prev:
                return checked, ChainBreak(record.id, "prev_hash does not match the previous record (a record was removed or inserted)")
            if compute_hash(record) != record.hash:
                return checked, ChainBreak(record.id, "content does not match its hash (the record was altered)")
            expected_prev = record.hash
            checked += 1
            last_id = record.id
