from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

GRACE_SCHEDULE_NAME = "渐退期满自动退出（每日）"


def ensure_grace_exit_schedule(sender, using="default", **kwargs):
    """The daily end of 渐退 grace periods (00:30): created once, then edited by administrators."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    schedule, _created = CrontabSchedule.objects.using(using).get_or_create(
        minute="30", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai")
    PeriodicTask.objects.using(using).get_or_create(
        name=GRACE_SCHEDULE_NAME, defaults={"task": "cases.tasks.grace_exits", "crontab": schedule,
                                            "description": "渐退期已满的在保家庭办理退出并出具退出通知书"})


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("低保家庭")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(ensure_grace_exit_schedule, sender=self)
