import logging

from celery import shared_task

from dibao.audit import verify_chain

logger = logging.getLogger(__name__)


@shared_task(name="dibao.tasks.audit_verify_chain")
def audit_verify_chain() -> dict:
    """Nightly tamper check of the audit trail (scheduled by beat; also `manage.py verify_audit`)."""
    checked, broken = verify_chain()
    if broken:
        logger.error("audit chain broken at record #%s: %s", broken.record_id, broken.reason)
    return {"checked": checked, "broken_record": broken.record_id if broken else None}
