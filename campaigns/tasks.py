import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from dibao.workdays import is_workday

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.tasks.daily_bulletins")
def daily_bulletins(day: str = "") -> dict:
    """The day's bulletin (日调度日通报) of every running campaign, on working days only: beat's
    crontab runs every day and cannot know the State Council's holidays and make-up days."""
    from campaigns import dispatch
    from campaigns.models import Campaign, CampaignState

    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    if not is_workday(today):
        return {"day": today.isoformat(), "skipped": "not a working day"}
    made = {}
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING).order_by("pk"):
        try:
            made[campaign.pk] = dispatch.bulletins_make(actor="system", campaign=campaign, day=today)
        except Exception:  # one campaign's failure must not cost the others their bulletin
            logger.exception("daily bulletins of campaign %s failed", campaign.pk)
    return {"day": today.isoformat(), "made": made}
