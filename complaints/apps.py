from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("投诉举报与问题线索")
    default_auto_field = "django.db.models.BigAutoField"
