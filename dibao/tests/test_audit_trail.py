"""The audit trail cannot be rewritten quietly: keyed hashes, no TRUNCATE, signed checkpoints of
its head outside the database, and one vocabulary of actions shown in Chinese."""
import ast
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dibao import tasks
from dibao.audit import (GENESIS_HASH, AuditAction, AuditObject, append_hmac_cutover, audit_record,
                         checkpoint_path, compute_hash)
from dibao.models import AuditRecord

pytestmark = pytest.mark.django_db


def _records(n: int) -> list[AuditRecord]:
    return [audit_record(actor=None, action=AuditAction.REGION_LOAD, object_type=AuditObject.REGION,
                         object_id=str(i), region_code="220102") for i in range(n)]


def _raw(sql: str, params: list) -> None:
    """Tampering as someone with direct database access would, past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord DISABLE TRIGGER dibao_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord ENABLE TRIGGER dibao_audit_append_only")


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def _verify_fails(match: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match=match):
        call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only")
def test_postgresql_refuses_truncate_of_the_audit_table():
    _records(2)
    # The test database lets the suite's own flushes through (conftest.py); production never does.
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE dibao_auditrecord ENABLE TRIGGER dibao_audit_no_truncate")
            cursor.execute("TRUNCATE dibao_auditrecord")
    assert AuditRecord.objects.count() == 2


def test_a_record_rewritten_and_rehashed_without_the_key_fails_verification():
    *_, last = _records(3)
    # The newest record: no later record's prev_hash betrays it, only the key does.
    forged = AuditRecord.objects.get(pk=last.pk)
    forged.actor_name = "someone-else"
    forged_hash = compute_hash(forged, keyed=False)
    _raw("UPDATE dibao_auditrecord SET actor_name = %s, hash = %s WHERE id = %s",
         ["someone-else", forged_hash, last.pk])
    _verify_fails(rf"record #{last.pk}\b.*altered")


def test_hashes_depend_on_the_key(settings):
    record = _records(1)[0]
    assert compute_hash(record) == record.hash != compute_hash(record, keyed=False)
    settings.AUDIT_HMAC_KEY = "another-key"
    assert compute_hash(record) != record.hash


def test_deleting_the_newest_records_after_a_checkpoint_fails_verification():
    records = _records(4)
    assert "audit chain intact: 4 records verified" in _verify()
    _raw("DELETE FROM dibao_auditrecord WHERE id >= %s", [records[2].pk])
    # What remains is a perfectly linked chain; only the checkpoint knows it was longer.
    out = _verify_fails(rf"record #{records[3].pk}, the head checkpointed at .* is no longer in the table")
    assert f"head #{records[3].pk}" in out and str(checkpoint_path()) in out


def test_verify_names_the_checkpoint_it_compared_with_and_writes_the_next():
    first = _records(2)
    out = _verify()
    path = checkpoint_path()
    assert Path(settings.AUDIT_CHECKPOINT_DIR) in path.parents
    assert f"no earlier checkpoint in {path}" in out
    assert f"checked 2 records, head #{first[-1].pk} hash {first[-1].hash}" in out
    latest = _records(1)[0]
    out = _verify()
    assert "compared with checkpoint of " in out and f"in {path}: head #{first[-1].pk} hash {first[-1].hash}, 2 records" in out
    assert f"checkpoint written: head #{latest.pk}" in out
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(c["record_id"], c["records"]) for c in lines] == [(first[-1].pk, 2), (latest.pk, 3)]


def test_a_failed_verification_writes_no_checkpoint():
    records = _records(2)
    _raw("UPDATE dibao_auditrecord SET note = %s WHERE id = %s", ["x", records[0].pk])
    _verify_fails("altered")
    assert not checkpoint_path().exists()


def test_an_edited_checkpoint_file_fails_verification():
    records = _records(2)
    _verify()
    path = checkpoint_path()
    checkpoint = json.loads(path.read_text())
    checkpoint["record_id"] = records[0].pk  # pretend the head was earlier, to hide a deletion
    path.write_text(json.dumps(checkpoint) + "\n")
    _verify_fails("line 1: signature does not match")


def test_records_before_the_cutover_are_checked_with_plain_sha256_and_said_so():
    # Two records as the trail stored them before the audit key existed.
    prev = GENESIS_HASH
    for i in range(2):
        legacy = AuditRecord(created_at=timezone.now(), actor_name="system", action="household.update",
                             object_type="household", object_id=str(i), prev_hash=prev)
        legacy.hash = prev = compute_hash(legacy, keyed=False)
        legacy.save(force_insert=True)
    append_hmac_cutover(AuditRecord)
    cutover = AuditRecord.objects.get(action=AuditAction.HMAC_CUTOVER)
    keyed = _records(1)[0]
    out = _verify()
    assert f"2 records before the HMAC cut-over (#{cutover.pk}) checked with plain SHA-256 only" in out
    assert "audit chain intact: 4 records verified" in out
    # After the cut-over a plain hash is a forgery.
    _raw("UPDATE dibao_auditrecord SET hash = %s WHERE id = %s", [compute_hash(keyed, keyed=False), keyed.pk])
    _verify_fails(rf"record #{keyed.pk}\b.*altered")


def test_an_empty_trail_needs_no_cutover_and_verifies():
    append_hmac_cutover(AuditRecord)
    assert not AuditRecord.objects.exists()
    assert "audit chain intact: 0 records verified" in _verify()
    _records(1)
    assert "audit chain intact: 1 records verified" in _verify()


def test_the_nightly_task_checkpoints_the_head_and_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    record = _records(1)[0]
    result = tasks.audit_verify_chain()
    assert (result["checked"], result["problems"], result["head"]) == (1, [], record.pk)
    assert json.loads(checkpoint_path().read_text())["hash"] == record.hash
    entry = PeriodicTask.objects.get(task="dibao.tasks.audit_verify_chain")
    assert entry.enabled and entry.crontab.hour == "2"


def test_an_action_or_object_type_outside_the_vocabulary_is_refused():
    with pytest.raises(ValueError, match="household.craete"):
        audit_record(actor=None, action="household.craete", object_type="household", object_id="1")
    with pytest.raises(ValueError, match="houshold"):
        audit_record(actor=None, action="household.create", object_type="houshold", object_id="1")
    with pytest.raises(ValueError, match="audit.hmac_cutover"):
        audit_record(actor=None, action=AuditAction.HMAC_CUTOVER, object_type="auditrecord", object_id="1")
    assert not AuditRecord.objects.exists()


def _constants(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _written_values(call: ast.Call):
    """(vocabulary, value) of what a call writes to the trail: `object_type=` is the audit's own
    word wherever it appears (reveals, downloads, timelines); `action=` only in the audit helpers,
    since permission checks take an `action=` too."""
    name = getattr(call.func, "id", getattr(call.func, "attr", ""))
    for kw in call.keywords:
        if kw.arg == "object_type":
            yield from ((AuditObject.values, v) for v in _constants(kw.value))
        elif kw.arg == "action" and ("audit" in name or name == "_set_household"):
            yield from ((AuditAction.values, v) for v in _constants(kw.value))


def test_every_action_and_object_type_written_in_the_code_is_in_the_vocabulary():
    root = Path(settings.BASE_DIR)
    unknown = []
    for app in ("dibao", "cases", "imports", "audits", "complaints", "reports"):
        for source in (root / app).rglob("*.py"):
            if "tests" in source.parts or "migrations" in source.parts:
                continue
            for call in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(call, ast.Call):
                    unknown += [f"{source.relative_to(root)}:{call.lineno} {value}"
                                for vocabulary, value in _written_values(call) if value not in vocabulary]
    assert unknown == []


def test_actions_built_from_a_kind_are_in_the_vocabulary():
    from imports.kinds import REF_KINDS, REGISTRY_KINDS, STANDARD_KINDS
    from reports.management.commands.export_form import FORMS

    for kind in REGISTRY_KINDS + STANDARD_KINDS + REF_KINDS:
        assert f"import.{kind}" in AuditAction.values and f"import.{kind}.rejected" in AuditAction.values
    for kind in REGISTRY_KINDS:
        assert f"export.{kind}" in AuditAction.values
    for form in FORMS:
        assert f"export.{form}" in AuditAction.values


def test_the_audit_log_shows_and_filters_actions_by_their_chinese_names(users, client_for):
    audit_record(actor=users["caseworker_a"], action="household.update", object_type="household",
                 object_id="7", region_code="220102001001")
    audit_record(actor=users["caseworker_a"], action="member.create", object_type="member",
                 object_id="8", region_code="220102001001")
    page = client_for(users["supervisor"]).get("/audit/?action=household.update").content.decode()
    assert '<option value="household.update" selected>修改低保家庭</option>' in page
    rows = page.split("<tbody>")[1]
    assert "修改低保家庭" in rows and "低保家庭 #7" in rows
    assert "新增家庭成员" not in rows


def test_work_done_by_the_command_line_or_a_scheduled_task_is_named_in_words(users, client_for):
    audit_record(actor="system", action="rescreen.recover", object_type="rescreen_batch", object_id="3",
                 region_code="220102")
    rows = client_for(users["supervisor"]).get("/audit/").content.decode().split("<tbody>")[1]
    assert "系统（命令行或定时任务）" in rows and ">system<" not in rows
