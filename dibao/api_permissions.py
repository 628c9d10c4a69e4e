"""The API's one permission class: every API view declares the permission-table actions it needs.

A view declares `required_actions`, keyed by viewset action (`list`, `retrieve`, `confirm`, ...)
or by HTTP method (`GET`, `POST`, ...), each naming an action of `dibao.permissions.PERMISSIONS`
(a tuple: any one of them) or `SIGNED_IN`. `ActionPermission` is the project's default
permission class (settings.REST_FRAMEWORK), so a view or operation that declares nothing is
refused to everybody; the permission matrix test (tests/test_permission_matrix.py) reads the
same declarations. Kept apart from dibao/api.py because DRF imports its default permission
class while `rest_framework.views` is being imported, which dibao/api.py itself imports.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied

from dibao.permissions import can, require

SIGNED_IN = "signed_in"  # any active signed-in user, whatever the role (e.g. the region picker)
_SAME_AS = {"HEAD": "GET", "OPTIONS": "GET"}


def required_actions_for(view, method: str) -> tuple[str, ...] | None:
    """The permission-table actions a request to `view` needs (any one of them), or None when
    the view declares nothing for it."""
    declared = getattr(view, "required_actions", None) or {}
    needed = declared.get(getattr(view, "action", None) or "") or declared.get(method)
    if needed is None and method in _SAME_AS:
        needed = declared.get(_SAME_AS[method])
    if needed is None:
        return None
    return (needed,) if isinstance(needed, str) else tuple(needed)


class ActionPermission(permissions.BasePermission):
    """The permission table asked for the action the view declares for this request. Only the
    role: the service the view calls still checks the row's region with `require`."""

    message = _("该接口未声明所需权限")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        needed = required_actions_for(view, request.method)
        if needed is None:
            return False
        if needed == (SIGNED_IN,) or any(can(user, a) for a in needed):
            return True
        try:
            require(user, needed[0])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return False
