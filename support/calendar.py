"""The .ics calendar feed of a worker's planned visits (issue 17).

A calendar app fetches the feed with the secret address alone (no login), so
the feed tells nothing about anyone to a reader of the phone's calendar or of
the calendar provider's servers: an event says "Besök 7F3K", the participant's
stable pseudonymous code (``bostadforst.identity.alias_code``, keyed on
SECRET_KEY, the code that protected people are shown by), and its time. Never a
name, personnummer, address or the plan's note. The UID is fixed per plan, so
a moved or cancelled plan updates the same event (STATUS:CANCELLED).
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

from bostadforst.identity import alias_code

from .models import PlannedVisit

# An event needs an end: a plan without a duration is shown as an hour.
DEFAULT_MINUTES = 60
PRODID = "-//Bostad forst//Planerade besok//SV"

STATUS = {
    PlannedVisit.Status.PLANNED: "CONFIRMED",
    PlannedVisit.Status.LOGGED: "CONFIRMED",
    PlannedVisit.Status.CANCELLED: "CANCELLED",
}


def event_uid(plan: PlannedVisit) -> str:
    """Stable per plan, and not the database id itself."""
    return f"{alias_code('planned-visit', plan.pk)}-{plan.pk}@bostadforst"


def event_summary(plan: PlannedVisit) -> str:
    return gettext("Visit %(code)s") % {"code": alias_code("person", plan.participant_id)}


def calendar_ics(plans, *, name: str) -> bytes:
    """The feed of ``plans`` as RFC 5545 text; ``name`` is the calendar's title."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    # Calendar apps fetch again after this long (a hint; most use their own).
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp = timezone.now()
    for plan in plans:
        # In UTC ("Z"): every calendar app reads it without a VTIMEZONE block.
        start = plan.planned_at.astimezone(UTC)
        event = Event()
        event.add("uid", event_uid(plan))
        event.add("dtstamp", stamp)
        event.add("last-modified", plan.updated_at)
        event.add("sequence", plan.version)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=plan.duration_minutes or DEFAULT_MINUTES))
        event.add("summary", event_summary(plan))
        event.add("status", STATUS[plan.status])
        # Private: a calendar shared with others shows only "busy".
        event.add("class", "PRIVATE")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
