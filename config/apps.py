from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = _("系统")


class AxesConfig(AxesAppConfig):
    """django-axes (login lockout) under a Chinese name in the admin; its models' names come from
    its own zh_Hans catalogue (locale/zh_Hans)."""
    verbose_name = _("登录安全")
