from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from dibao.models import Region


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续多次输错后账号将被临时锁定。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }


class RegionField(forms.ModelChoiceField):
    """A region chosen with the cascading picker; accepts natural or 12-digit padded codes."""

    widget = forms.HiddenInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("error_messages", {"invalid_choice": _("区划代码不存在")})
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        from dibao.models import natural_code
        if isinstance(value, str):
            value = natural_code(value.strip())
        return super().to_python(value)
