from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DibaoConfig(AppConfig):
    name = "dibao"
    verbose_name = _("基础（区划、用户、审计）")
    default_auto_field = "django.db.models.BigAutoField"
