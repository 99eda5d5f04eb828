"""The participant timeline: this app's entries and those other apps register.

Each source in ``bostadforst.registry.timeline_sources`` returns at most
``limit`` events, newest first, in a fixed number of queries. Page ``p`` of
``n`` entries needs at most ``p * n`` entries from every source, so a page
costs the same number of queries however long the history is.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext

from bostadforst.registry import TimelineEvent, timeline_sources
from bostadforst.roles import TEAM, role_of

from .models import EligibilityAssessment, ReferralEvent, ReferralStatus

PAGE_SIZE = 20
MAX_PAGE = 50


def referral_timeline(participant, *, user, limit: int) -> list[TimelineEvent]:
    """Referrals, their status changes, interviews, references, information
    and the recorded criteria (two queries)."""
    if role_of(user) not in TEAM:
        return []
    events = []
    rows = (
        ReferralEvent.objects.filter(referral__participant=participant)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )
    for row in rows:
        url = reverse("participants:referral-detail", kwargs={"pk": row.referral_id})
        if row.kind == ReferralEvent.Kind.TRANSITION:
            title = gettext("Referral: %(status)s") % {
                "status": ReferralStatus(row.to_status).label
            }
        else:
            title = row.get_kind_display()
        detail = gettext("by %(user)s") % {"user": row.created_by}
        if row.occurred_on and row.kind != ReferralEvent.Kind.TRANSITION:
            detail = f"{row.occurred_on:%Y-%m-%d} · {detail}"
        events.append(
            TimelineEvent(
                when=row.created_at,
                kind=gettext("Referral"),
                title=str(title),
                url=url,
                detail=detail,
                sort_key=(0, row.pk),
            )
        )
    assessments = (
        EligibilityAssessment.objects.filter(referral__participant=participant)
        .select_related("assessor")
        .order_by("-assessed_on", "-updated_at", "-pk")[:limit]
    )
    for row in assessments:
        events.append(
            TimelineEvent(
                # The assessor's date: the day the answer was recorded.
                when=row.assessed_on or row.updated_at,
                kind=gettext("Assessment"),
                title=str(row),
                url=reverse("participants:referral-detail", kwargs={"pk": row.referral_id}),
                detail=gettext("by %(user)s") % {"user": row.assessor or "–"},
                sort_key=(1, row.pk),
            )
        )
    events.sort(key=_newest_first, reverse=True)
    return events[:limit]


def _newest_first(event: TimelineEvent) -> tuple:
    # Date and time only: sources' own tie-break keys need not be comparable
    # with each other, and the stable sort keeps each source's order on ties.
    return event.sort_datetime[:2]


@dataclass
class TimelinePage:
    events: list[TimelineEvent]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def timeline_page(participant, *, user, page: int = 1, size: int = PAGE_SIZE) -> TimelinePage:
    """Page ``page`` (1-based) of every source's events merged, newest first."""
    page = max(1, min(page, MAX_PAGE))
    limit = page * size + 1
    merged: list[TimelineEvent] = []
    for source in timeline_sources:
        merged.extend(source(participant, user=user, limit=limit))
    merged.sort(key=_newest_first, reverse=True)
    start = (page - 1) * size
    return TimelinePage(
        events=merged[start : start + size], number=page, has_next=len(merged) > page * size
    )
