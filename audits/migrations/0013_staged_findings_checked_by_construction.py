"""Staged findings reference their batch without a database check or an index of their own (see the model)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audits', '0012_tasks_updated_in_place'),
        ('cases', '0012_rerateline_stale'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stagedfinding',
            name='batch',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='audits.rescreenbatch'),
        ),
    ]
