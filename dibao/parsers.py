"""The API's request parsers: DRF's, plus the text check every form field has
(dibao.validators.validate_text), applied to every string of the request body. A control
character is refused with a 400 keyed by the field that holds it, like a serializer error."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import parsers
from rest_framework.exceptions import ValidationError

from dibao.validators import validate_text


def _check(value, path: str) -> None:
    if isinstance(value, str):
        try:
            validate_text(value)
        except DjangoValidationError as error:
            raise ValidationError({path or "non_field_errors": error.messages}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(str(key), path)
            _check(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")


def _check_form(data) -> None:
    for key, values in data.lists():
        for value in values:
            _check(value, key)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check(data, "")
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result
