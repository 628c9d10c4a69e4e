import logging

from celery import shared_task

from dibao.audit import verify_trail

logger = logging.getLogger(__name__)


@shared_task(name="dibao.tasks.audit_verify_chain")
def audit_verify_chain() -> dict:
    """Nightly tamper check of the audit trail, checkpointing its head (scheduled by beat in
    dibao.apps; the same check as `manage.py verify_audit`)."""
    report = verify_trail()
    for problem in report.problems:
        logger.error("audit trail verification failed: %s", problem)
    broken = report.chain.broken
    return {"checked": report.chain.checked, "broken_record": broken.record_id if broken else None,
            "problems": report.problems, "checkpoint": str(report.path),
            "head": report.written.record_id if report.written else None}
