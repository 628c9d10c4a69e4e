"""TRUNCATE refused like UPDATE and DELETE (a statement-level trigger: TRUNCATE fires no row
triggers), and the HMAC cut-over: records from here on are keyed with AUDIT_HMAC_KEY, the ones
already stored keep their plain SHA-256 hashes (see dibao.audit)."""
from django.db import migrations

TRIGGER_SQL = """
CREATE TRIGGER dibao_audit_no_truncate
    BEFORE TRUNCATE ON dibao_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION dibao_audit_append_only();
"""
DROP_SQL = "DROP TRIGGER IF EXISTS dibao_audit_no_truncate ON dibao_auditrecord;"


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def mark_cutover(apps, schema_editor):
    from dibao.audit import append_hmac_cutover

    append_hmac_cutover(apps.get_model("dibao", "AuditRecord"))


class Migration(migrations.Migration):
    dependencies = [("dibao", "0002_audit_append_only_and_roles")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        # Not reversible: the mark is part of the append-only trail like any other record.
        migrations.RunPython(mark_cutover, migrations.RunPython.noop),
    ]
