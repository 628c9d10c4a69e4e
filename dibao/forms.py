from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from dibao.models import Region
from dibao.validators import validate_text

BLANK_CHOICE = _("— 请选择 —")


class TextInputMixin:
    """Every form of the project inherits this: each text field refuses control characters
    with the message shown under that field (dibao/tests/test_bad_input.py walks all forms),
    and an empty choice reads 请选择 rather than Django's "---------"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and validate_text not in field.validators:
                field.validators.append(validate_text)
            if isinstance(field, forms.ModelChoiceField):
                if field.empty_label == "---------":
                    field.empty_label = BLANK_CHOICE
            elif isinstance(field, forms.ChoiceField):
                choices = list(field.choices)
                if choices and choices[0] == ("", "---------"):
                    field.choices = [("", BLANK_CHOICE), *choices[1:]]


class LoginForm(TextInputMixin, AuthenticationForm):
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


def _texts(errors) -> list[str]:
    return [e.message % e.params if getattr(e, "params", None) else str(e.message) for e in errors]


def apply_service_errors(error: ValidationError | PermissionDenied, *forms_: forms.BaseForm,
                         fallback: forms.BaseForm | None = None, request=None) -> None:
    """Show a service's refusal where the user looks: next to the field it names, at the top of
    the form, or (no form) as a page message."""
    forms_ = [f for f in forms_ if f is not None]
    fallback = fallback or (forms_[0] if forms_ else None)

    def top(texts):
        for text in texts:
            if fallback is not None:
                fallback.add_error(None, text)
            else:
                messages.error(request, text)

    if isinstance(error, PermissionDenied) or not hasattr(error, "error_dict"):
        top(error.messages if isinstance(error, ValidationError) else [str(error)])
        return
    for field, errors in error.error_dict.items():
        target = next((f for f in forms_ if field in f.fields), None)
        if target is None:
            top(_texts(errors))
        else:
            target.add_error(field, _texts(errors))
