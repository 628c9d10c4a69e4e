from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_monthly_schedule(sender, **kwargs):
    """The beat entry: 01:30 Asia/Shanghai on the 1st of each month, for the month before.

    Created once; an administrator may change the time in the admin and it is kept.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from reports.tasks import MONTHLY_ROLLUP_TASK

    if PeriodicTask.objects.filter(task=MONTHLY_ROLLUP_TASK).exists():
        return
    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute="30", hour="1", day_of_month="1", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai")
    PeriodicTask.objects.create(name="月度汇总（上月）", task=MONTHLY_ROLLUP_TASK, crontab=schedule,
                                description="每月1日计算上一个月的月度汇总快照（reports.md）")


def ensure_notice_schedule(sender, **kwargs):
    """The beat entry releasing due public-notice editions: daily at 01:00, so a new month's or
    quarter's edition is out on its first morning; created once, then edited in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from reports.tasks import NOTICE_RELEASE_TASK

    if PeriodicTask.objects.filter(task=NOTICE_RELEASE_TASK).exists():
        return
    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute="0", hour="1", day_of_month="*", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai")
    PeriodicTask.objects.create(name="长期公示到期发布", task=NOTICE_RELEASE_TASK, crontab=schedule,
                                description="村（居）按月、乡镇按季度发布本期长期公示（已发布的期次不变）")


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计报表")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(ensure_monthly_schedule, sender=self)
        post_migrate.connect(ensure_notice_schedule, sender=self)
