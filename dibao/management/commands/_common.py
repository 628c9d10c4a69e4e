from django.core.management.base import CommandError

from dibao.models import User


def resolve_actor(username: str | None):
    """The user a command acts as: --as-user, or the system account ('system')."""
    if not username:
        return "system"
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(f"no such user: {username}")
