from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SCHEDULE_NAME = "每月复核比对（全省）"


def ensure_monthly_schedule(sender, using="default", **kwargs):
    """The monthly province-wide rescreening (1st of the month, 02:00): created once, then
    edited by administrators in the admin (django-celery-beat's periodic tasks)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=SCHEDULE_NAME).exists():
        return
    schedule, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="0", hour="2", day_of_month="1", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai")
    PeriodicTask.objects.using(using).create(name=SCHEDULE_NAME, task="audits.tasks.monthly_rescreen",
                                             crontab=schedule, kwargs='{"region_code": ""}',
                                             description="全省低保对象复核比对，每月 1 日运行；区划代码为空表示全部")


def ensure_watchdog(sender, using="default", **kwargs):
    from dibao.jobs import ensure_watchdog_schedule

    ensure_watchdog_schedule(name="自动恢复中断的复核比对（每 5 分钟）", task="audits.tasks.recover_stale", using=using,
                             description="处理进程中断（心跳超时）的批次分块和批次自动重新排队")


class AuditsConfig(AppConfig):
    name = "audits"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("复核比对")

    def ready(self):
        post_migrate.connect(ensure_monthly_schedule, sender=self)
        post_migrate.connect(ensure_watchdog, sender=self)
