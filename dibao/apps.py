from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_nightly_audit_check(sender, **kwargs):
    """Schedule the nightly audit-chain check once; admins may change or disable it."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai")
    PeriodicTask.objects.get_or_create(
        name="审计日志完整性校验（每日）", defaults={"task": "dibao.tasks.audit_verify_chain", "crontab": schedule})


class DibaoConfig(AppConfig):
    name = "dibao"
    verbose_name = _("基础（区划、用户、审计）")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(ensure_nightly_audit_check, sender=self)
