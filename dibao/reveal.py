"""The audited reveal of a full ID number: the one way a full number reaches a screen or an
API client outside the registry's own edit forms."""
from __future__ import annotations

from django.db import transaction

from dibao.audit import AuditAction, audit_record
from dibao.idnumber import mask_id
from dibao.permissions import require


@transaction.atomic
def id_number_reveal(*, actor, object_type: str, object_id: int, region_code: str, id_number: str) -> str:
    """Return `id_number` to a role that may see it in full in `region_code`, leaving a trace of
    who looked at whose number (the trace keeps only the masked form)."""
    require(actor, "household.reveal_id", region_code=region_code)
    audit_record(actor=actor, action=AuditAction.ID_NUMBER_REVEAL, object_type=object_type, object_id=object_id,
                 region_code=region_code, note=mask_id(id_number))
    return id_number
