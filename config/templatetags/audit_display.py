"""Audit records as people read them: Chinese names of actions and object types, field labels instead
of column names, and values as the pages show them (状态: 在保 → 已退出; 停发: 是; a user's name
instead of their id; a rule's name instead of its code), never a Python dict."""
from __future__ import annotations

from functools import lru_cache

from django import template
from django.apps import apps
from django.db import models
from django.utils.translation import gettext as _, gettext_lazy

from audits.catalogue import BY_CODE, rule_name
from audits.templatetags.audits_tags import batch_params
from dibao.audit import AuditAction, AuditObject, action_label, object_label
from dibao.idnumber import mask_id
from config.templatetags.names import dataset_name, region_name_of

register = template.Library()

# Keys some services record that are not columns of the object's model (finding decisions,
# batches, imports, rollups): their labels as the pages name them.
_EXTRA_LABELS = {
    "finding_id": gettext_lazy("疑点编号"), "rule": gettext_lazy("规则"), "reason": gettext_lazy("理由"),
    "actions": gettext_lazy("处理措施"), "stop_payment": gettext_lazy("停发"), "exit": gettext_lazy("退出"),
    "recover_funds": gettext_lazy("追回资金（元）"), "refer_clue": gettext_lazy("移送线索"),
    "clue": gettext_lazy("问题线索"), "exited_on": gettext_lazy("退出日期"),
    "warnings": gettext_lazy("提示条数"), "versions": gettext_lazy("比对数据版本"),
    "params": gettext_lazy("规则参数"), "region_code": gettext_lazy("区划"), "as_of": gettext_lazy("基准日"),
    "rows": gettext_lazy("行数"), "replaced_rows": gettext_lazy("替换行数"), "month": gettext_lazy("月份"),
    "scope": gettext_lazy("范围"), "problems": gettext_lazy("问题数"), "items": gettext_lazy("检查项数"),
    "seed": gettext_lazy("抽样种子"), "n": gettext_lazy("数量"), "population": gettext_lazy("总体数量"),
    "attachment_id": gettext_lazy("附件编号"), "kind": gettext_lazy("类别"), "step": gettext_lazy("环节"),
    "sha256": gettext_lazy("文件校验值"), "size": gettext_lazy("大小（字节）"),
    "check_id": gettext_lazy("核对编号"), "stage": gettext_lazy("阶段"), "outcome": gettext_lazy("结果"),
    "concluded_on": gettext_lazy("办结日期"), "disciplines": gettext_lazy("处分情况"),
    "acknowledged": gettext_lazy("已确认提示"), "note": gettext_lazy("说明"),
    "created_by": gettext_lazy("登记人"), "marked_by": gettext_lazy("标记人"),
    # campaigns, bulletins, payment rolls
    "listed": gettext_lazy("列入排查户数"), "households": gettext_lazy("户数"),
    "bulletins": gettext_lazy("通报份数"), "recreated": gettext_lazy("重新生成"),
    # a change's content (变更内容) and a finding's follow-up change
    "member": gettext_lazy("新增成员"), "member_id": gettext_lazy("成员编号"),
    "leave_reason": gettext_lazy("减员原因"), "left_on": gettext_lazy("减员日期"),
    "new_head_id": gettext_lazy("新户主"), "income_above": gettext_lazy("收入超过保障标准"),
    "remove_member": gettext_lazy("减员"), "change": gettext_lazy("变更单号"), "amount": gettext_lazy("金额（元）"),
    "exit_on": gettext_lazy("退出日期"), "file": gettext_lazy("文件"),
    # exports, documents, notices, dispatch and rerates
    "format": gettext_lazy("格式"), "full_ids": gettext_lazy("含完整身份证号"), "output": gettext_lazy("输出文件"),
    "from": gettext_lazy("起"), "to": gettext_lazy("止"), "level": gettext_lazy("汇总层级"),
    "document": gettext_lazy("文书"), "title": gettext_lazy("标题"), "period": gettext_lazy("期间"),
    "released_on": gettext_lazy("发布日期"), "day": gettext_lazy("日期"), "late": gettext_lazy("滞后地区数"),
    "request": gettext_lazy("报送任务"), "campaign": gettext_lazy("排查活动"), "added": gettext_lazy("新增户数"),
    "state": gettext_lazy("状态"), "total": gettext_lazy("合计"), "no_account": gettext_lazy("无账户户数"),
    "redrawn": gettext_lazy("重新抽取"), "funds_recovered": gettext_lazy("追回资金（元）"),
    "households_changed": gettext_lazy("调整户数"), "households_skipped": gettext_lazy("跳过户数"),
    "effective_month": gettext_lazy("生效月份"), "standard_id": gettext_lazy("保障标准"),
    "investigators": gettext_lazy("核查人员"), "visited_on": gettext_lazy("入户日期"),
}


@lru_cache(maxsize=None)
def _model(object_type: str):
    # Object types are model names, some spelt with underscores (`rescreen_batch`).
    model_name = object_type.replace("_", "")
    return next((m for m in apps.get_models() if m._meta.model_name == model_name), None)


@lru_cache(maxsize=None)
def _fields(object_type: str) -> dict[str, models.Field]:
    model = _model(object_type)
    if model is None:
        return {}
    fields = {}
    for f in model._meta.concrete_fields:
        fields[f.name] = f
        fields[f.attname] = f
    return fields


def _label(field: models.Field | None, key: str) -> str:
    if isinstance(field, models.AutoField) or key == "id":
        return _("编号")
    if key in BY_CODE:  # counts per rule
        return rule_name(key)
    if field is not None and field.verbose_name != field.name.replace("_", " "):
        return str(field.verbose_name)
    # A field left without a Chinese verbose_name: the page's label, else the related model's name.
    if key in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[key])
    if field is None:
        # A key nested in a change's content: the member's (or household's) column of that name.
        column = _fields("member").get(key) or _fields("household").get(key)
        return str(column.verbose_name) if column is not None else key
    if not field.is_relation:
        return key
    return str(field.related_model._meta.verbose_name)


def _person(user) -> str:
    name, role = str(user), str(user.role_label)
    return name if role in name else f"{name}（{role}）"


def _related(field: models.ForeignKey, pk) -> str:
    from dibao.models import Region, User
    model = field.related_model
    if model is Region:
        return region_name_of(pk)
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        return f"#{pk}"
    return _person(obj) if model is User else str(obj)


def _value(field: models.Field | None, key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key.endswith("id_number") and isinstance(value, str):
        return mask_id(value)  # as on every page: the full number only through the audited reveal
    if key == "account_no" and isinstance(value, str):
        return f"****{value[-4:]}"  # as the household page shows it
    if field is not None:
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if field.is_relation and field.many_to_one:
            return _related(field, value)
        if isinstance(field, models.BooleanField):
            return _("是") if value else _("否")
    if key == "rule" or (isinstance(value, str) and value in BY_CODE):
        return rule_name(value)
    if key == "region_code":
        return region_name_of(value)
    if key == "versions" and isinstance(value, dict):
        # {kind: number} on an entry check, {kind: [id, number]} on a batch: the data sets by name.
        return "；".join(f"{dataset_name(k)} v{v[1] if isinstance(v, (list, tuple)) else v}"
                        for k, v in value.items()) or "—"
    if key == "params" and isinstance(value, dict):
        return "；".join(f"{label}：{text}" for label, text in batch_params(value))
    if isinstance(value, dict):
        return "；".join(f"{_label(None, k)}：{_value(None, k, v)}" for k, v in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return "、".join(" ".join(_value(None, "", v) for v in item) if isinstance(item, (list, tuple))
                        else _value(None, "", item) for item in value) or "—"
    return str(value)


@lru_cache(maxsize=None)
def _choice_fields() -> dict[str, list[models.Field]]:
    """Every field with choices, by name: a detail recorded on another object (an application's
    attachment kind, a check's stage) is still shown with its label."""
    found: dict[str, list[models.Field]] = {}
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.choices:
                found.setdefault(f.name, []).append(f)
    return found


def _field(record, key: str, value) -> models.Field | None:
    # The object's own column; else the column of the model the action is about (`finding.confirm`
    # recorded on the household carries the finding's state); else any field whose choices know it.
    for source in (record.object_type, record.action.split(".")[0]):
        field = _fields(source).get(key)
        if field is not None:
            return field
    if isinstance(value, str):
        return next((f for f in _choice_fields().get(key, []) if value in dict(f.flatchoices)), None)
    return None


@register.filter
def audit_changes(record) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, had_before) for each field the record changed, in words."""
    before = record.before or {}
    after = record.after or {}
    rows = []
    for k in list(after) or list(before):
        field = _field(record, k, after.get(k, before.get(k)))
        rows.append((_label(field, k), _value(field, k, before.get(k)), _value(field, k, after.get(k)),
                     k in before and bool(after)))
    return rows


@register.filter
def audit_actor(record) -> str:
    """操作人 with their role; the stored name when the account is gone; the command line and
    scheduled tasks, which act as "system", in words."""
    if record.actor_id and record.actor:
        return _person(record.actor)
    return _("系统（命令行或定时任务）") if record.actor_name == "system" else record.actor_name


@register.filter
def audit_action(value: str) -> str:
    return action_label(value)


@register.filter
def audit_object(value: str) -> str:
    return object_label(value)


@register.simple_tag
def audit_vocabulary() -> dict:
    """The choices of the audit log's filter."""
    return {"actions": AuditAction.choices, "objects": AuditObject.choices}
