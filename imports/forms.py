import os

from django import forms
from django.utils.translation import gettext_lazy as _

from imports.kinds import get_kind
from imports.reader import FileError, check_file_size
from dibao.forms import TextInputMixin


class UploadForm(TextInputMixin, forms.Form):
    kind = forms.ChoiceField(label=_("数据类型"), widget=forms.Select(attrs={"class": "form-select"}))
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"),
                           widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}))

    members_file = forms.FileField(
        label=_("家庭成员文件（可选）"), required=False,
        help_text=_("仅当数据类型为低保家庭时：与家庭文件同批导入，成员可属于本次文件中的新家庭。"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}))

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, get_kind(k).label) for k in kinds]

    @staticmethod
    def _check_ext(f):
        if f and os.path.splitext(f.name.lower())[1] not in (".xlsx", ".xlsm", ".csv"):
            raise forms.ValidationError(_("只支持 .xlsx 和 .csv 文件"))
        if f:
            try:
                check_file_size(f.size)
            except FileError as exc:
                raise forms.ValidationError(exc.zh)
        return f

    def clean_file(self):
        return self._check_ext(self.cleaned_data["file"])

    def clean_members_file(self):
        return self._check_ext(self.cleaned_data.get("members_file"))

    def clean(self):
        data = super().clean()
        if data.get("members_file") and data.get("kind") != "households":
            self.add_error("members_file", _("只有低保家庭文件可以附带家庭成员文件"))
        return data
