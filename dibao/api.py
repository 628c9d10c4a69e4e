"""What every API view shares besides its permission (dibao.api_permissions): the
service-error translation, masked ID numbers and their audited reveal, and the regions endpoint."""
from __future__ import annotations

import functools

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from dibao.api_permissions import SIGNED_IN
from dibao.concurrency import StaleVersion
from dibao.idnumber import mask_id
from dibao.models import Region
from dibao.reveal import id_number_reveal


def service_call(func, **kwargs):
    """Run one service: its ValidationError becomes a 400 keyed by field, its PermissionDenied
    a 403, each with the service's Chinese message; a stale version is a 412."""
    try:
        return func(**kwargs)
    except StaleVersion as error:
        raise PreconditionFailed(error.messages[0]) from None
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError({field: [m for e in errors for m in e.messages]
                                   for field, errors in error.error_dict.items()}) from None
        raise ValidationError({"non_field_errors": error.messages}) from None
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error) or None) from None


def form_or_400(form_class, request, **kwargs):
    """Validate a request body with the page's own form, so the API and the page accept exactly
    the same input; its errors come back as a 400 keyed by field."""
    form = form_class(request.data, **kwargs)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form


_FORM_TO_SERIALIZER = [  # subclasses before their bases
    (forms.ModelMultipleChoiceField, lambda f: serializers.ListField(child=serializers.CharField())),
    (forms.ModelChoiceField, lambda f: serializers.CharField()),
    (forms.NullBooleanField, lambda f: serializers.BooleanField(allow_null=True)),
    (forms.BooleanField, lambda f: serializers.BooleanField()),
    (forms.ChoiceField, lambda f: serializers.ChoiceField(choices=[c for c in f.choices if c[0] != ""])),
    (forms.IntegerField, lambda f: serializers.IntegerField()),
    (forms.DecimalField, lambda f: serializers.DecimalField(max_digits=f.max_digits or 14,
                                                             decimal_places=f.decimal_places or 2)),
    (forms.DateTimeField, lambda f: serializers.DateTimeField()),
    (forms.DateField, lambda f: serializers.DateField()),
    (forms.FileField, lambda f: serializers.FileField()),
    (forms.Field, lambda f: serializers.CharField()),
]


@functools.cache  # one component per form, however many operations take it
def form_schema(form_class, name: str):
    """The OpenAPI description of a page form's fields, for an operation validated by form_or_400."""
    fields = {}
    for field_name, field in form_class.base_fields.items():
        make = next(make for kind, make in _FORM_TO_SERIALIZER if isinstance(field, kind))
        serializer_field = make(field)
        serializer_field.required = field.required
        serializer_field.help_text = field.help_text or field.label
        fields[field_name] = serializer_field
    return inline_serializer(name=name, fields=fields)


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = _("该记录已被他人修改，请刷新后重试")
    default_code = "precondition_failed"


class VersionedMixin:
    """ViewSet mixin for rows with a `version` (dibao.concurrency). A response carrying one
    object with its `version` gets `ETag: "<version>"`; a write passes `self.expected_version()`
    to its service: the If-Match tag, else a `version` in the body, else None (not checked).
    The service compares it with the row it locked; a stale one is answered 412."""

    def expected_version(self) -> int | None:
        header = self.request.headers.get("If-Match", "").strip()
        if header == "*":
            return None
        if header:
            tag = header[1:-1] if len(header) > 2 and header[0] == header[-1] == '"' else ""
            if not tag.isdigit():
                raise PreconditionFailed(_("If-Match 应为读取该记录时返回的 ETag，例如 \"3\"（当前为 %(h)s）")
                                         % {"h": header[:40]})
            return int(tag)
        body = self.request.data.get("version") if hasattr(self.request.data, "get") else None
        if body in (None, ""):
            return None
        try:
            return int(body)
        except (TypeError, ValueError):
            raise ValidationError({"version": [_("版本号应为整数")]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if 200 <= response.status_code < 300 and isinstance(data, dict) and isinstance(data.get("version"), int):
            response["ETag"] = f'"{data["version"]}"'
        return response


class MaskedIdMixin:
    """Serializer mixin: the fields in `id_fields` are always masked; a full number is shown only
    through the audited `reveal-id` operation (IdRevealMixin)."""

    id_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in self.id_fields:
            if data.get(name):
                data[name] = mask_id(data[name])
        return data


class IdRevealSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text=_("完整身份证号（本次查看已记入审计日志）"))


class IdRevealMixin:
    """`POST <detail>/reveal-id/`: the full ID number of one row, an audited act, for the roles
    with `household.reveal_id` in the row's region. `reveal(request, obj)` does the audited
    service call and returns the number. An htmx request from a list page gets the HTML
    fragment that replaces the masked cell (the same as the household page's reveal)."""

    def reveal(self, request, obj) -> str:
        raise NotImplementedError

    @extend_schema(request=None, responses=IdRevealSerializer, summary=_("查看完整身份证号（记入审计）"))
    @action(detail=True, methods=["post"], url_path="reveal-id")
    def reveal_id(self, request, pk=None):
        number = self.reveal(request, self.get_object())
        if request.headers.get("HX-Request"):
            return HttpResponse(format_html('<span class="id-full">{}</span>', number))
        return Response({"id_number": number})


def reveal_field(request, obj, *, object_type: str, region_code: str, id_number: str) -> str:
    """The generic audited reveal (dibao.reveal), for rows without a reveal service of their own."""
    return service_call(id_number_reveal, actor=request.user, object_type=object_type, object_id=obj.pk,
                        region_code=region_code, id_number=id_number)


class RegionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "level_display", "parent"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions inside the caller's jurisdiction; `?parent=CODE` lists one node's children."""

    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_fields = {"parent": ["exact"], "level": ["exact"], "code": ["startswith"]}
    required_actions = {"GET": SIGNED_IN}

    def get_queryset(self):
        return Region.objects.for_user(self.request.user).order_by("code")

