from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION dibao_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on dibao_auditrecord refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dibao_audit_append_only
    BEFORE UPDATE OR DELETE ON dibao_auditrecord
    FOR EACH ROW EXECUTE FUNCTION dibao_audit_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS dibao_audit_append_only ON dibao_auditrecord;
DROP FUNCTION IF EXISTS dibao_audit_append_only();
"""

ROLES = ["caseworker", "county_reviewer", "supervisor", "inspector", "admin"]


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def add_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("dibao", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(add_roles, migrations.RunPython.noop),
    ]
