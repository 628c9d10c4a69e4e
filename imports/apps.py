from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.db.models.signals import post_migrate


def ensure_watchdog(sender, using="default", **kwargs):
    from dibao.jobs import ensure_watchdog_schedule

    ensure_watchdog_schedule(name="自动恢复中断的数据导入（每 5 分钟）", task="imports.tasks.recover_stale_imports",
                             using=using, description="处理进程中断（心跳超时）的导入重新排队，多次中断后标记失败")


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("数据导入")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(ensure_watchdog, sender=self)
