from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("专项排查")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from campaigns.dispatch import ensure_bulletin_schedule

        post_migrate.connect(ensure_bulletin_schedule, sender=self)
