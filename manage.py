#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        from django.conf import settings
        settings.INSTALLED_APPS  # load the settings here: a missing key is a message to act on, not a traceback
    except ImproperlyConfigured as exc:
        sys.exit(f"配置错误：{exc}")
    execute_from_command_line(sys.argv)
