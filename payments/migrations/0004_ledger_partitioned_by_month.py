"""The payments ledger partitioned by pay month on PostgreSQL (dibao/partitions.py): a month's bank
return loads into a partition of its own. Unique keys of a partitioned table include the
partition key, hence (交易流水号, month) and no database-level reference from a visit."""

import django.db.models.deletion
from django.db import migrations, models

from dibao.partitions import partition_by_month


def partition_ledger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            partition_by_month(cursor, "payments_payment", "pay_month")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_rerateline_stale'),
        ('payments', '0003_roll_lines_checked_by_construction'),
    ]

    operations = [
        migrations.AlterField(
            model_name='paymentvisit',
            name='payment',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='payments.payment', verbose_name='发放记录'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='txn_no',
            field=models.CharField(max_length=40, verbose_name='交易流水号'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(fields=('txn_no', 'pay_month'), name='payment_txn_month_key'),
        ),
        migrations.RunPython(partition_ledger, migrations.RunPython.noop),
    ]
