"""A batch's findings reference their batch and chunk without database checks, and no index repeats
another (see the model: they are written only by the batch's own statements)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audits', '0013_staged_findings_checked_by_construction'),
        ('cases', '0012_rerateline_stale'),
    ]

    operations = [
        migrations.AlterField(
            model_name='finding',
            name='batch',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='audits.rescreenbatch'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='chunk',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='audits.batchchunk'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='household',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='findings', to='cases.household', verbose_name='家庭'),
        ),
    ]
