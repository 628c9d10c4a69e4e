"""The project shell: settings, URLs, the Celery app, the home page and the demo data.

It knows every app; the `dibao` core (regions, users, permissions, audit, jobs, files) knows none.
"""
from config.celery import app as celery_app

__all__ = ["celery_app"]
