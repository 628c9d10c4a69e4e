"""Open verification tasks are rewritten every batch (their flags and last batch): no index on the
last batch and half of each page left free let PostgreSQL update them in place (HOT) rather than
insert a new entry into each of the table's indexes. Pages written before keep their fill until
the table is rewritten (VACUUM FULL)."""

import django.db.models.deletion
from django.db import migrations, models


def set_fillfactor(percent):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE audits_verificationtask SET (fillfactor = {percent})")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('audits', '0011_open_tasks_by_deadline'),
    ]

    operations = [
        migrations.AlterField(
            model_name='verificationtask',
            name='last_batch',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='audits.rescreenbatch'),
        ),
        migrations.RunPython(set_fillfactor(50), set_fillfactor(100)),
    ]
