"""A support worker's caseload as one annotated query, the conditions the
start page's queue items count and the "My participants" list filters by
(``?show=``), so the two always agree.

Every figure is a correlated subquery (the visit one uses the
(participant, -started_at) index): the list is one query, the counts one
aggregate query, whatever the size of the caseload.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from housing.models import TenancyIncident
from participants.models import ACTIVE_STATUSES, Participant, ParticipantStatus

from .models import ActionPlan, CrisisPlacement, SupportVisit

# The values of "My participants"' ``show`` parameter.
NO_CONTACT = "no_contact"
REVIEW = "review"
INCIDENTS = "incidents"
CRISIS = "crisis"
SHOWS = (NO_CONTACT, REVIEW, INCIDENTS, CRISIS)


def contact_overdue_days() -> int:
    """After how many days without contact a person is flagged
    (``CONTACT_OVERDUE_DAYS``, 14 by default)."""
    return settings.CONTACT_OVERDUE_DAYS


def caseload_queryset(*, user) -> QuerySet[Participant]:
    """The people assigned to ``user`` (not exited, not anonymised), each with
    ``last_visit_at``, ``open_incident_count``, ``plan_review_on`` and
    ``open_placement_name``. Missed or cancelled visits are not contacts."""
    last_visit = (
        SupportVisit.objects.filter(participant=OuterRef("pk"))
        .exclude(kind=SupportVisit.Kind.MISSED)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    open_incidents = (
        TenancyIncident.objects.filter(
            tenancy__participant=OuterRef("pk"), resolved_on__isnull=True
        )
        .order_by()
        .values("tenancy__participant")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    open_placement = (
        CrisisPlacement.objects.filter(participant=OuterRef("pk"), end__isnull=True)
        .order_by("-start")
        .values("place__name")[:1]
    )
    latest_plan = ActionPlan.objects.filter(participant=OuterRef("pk")).order_by("-number")
    return (
        Participant.objects.filter(support_worker=user, anonymised_at__isnull=True)
        .exclude(status=ParticipantStatus.EXITED)
        .annotate(
            last_visit_at=Subquery(last_visit),
            open_incident_count=Coalesce(
                Subquery(open_incidents, output_field=IntegerField()), Value(0)
            ),
            plan_review_on=Subquery(latest_plan.values("review_on")[:1]),
            open_placement_name=Subquery(open_placement),
        )
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def no_contact_since(today: date, days: int) -> datetime:
    """The instant before which a last contact is more than ``days`` days ago:
    the list counts days between Stockholm dates, so a visit on today − days
    is ``days`` days ago and not yet overdue."""
    return _day_start(today - timedelta(days=days))


def condition(show: str, *, today: date, days: int | None = None) -> Q:
    """The rows of the caseload ``show`` picks out (see ``SHOWS``)."""
    if show == NO_CONTACT:
        since = no_contact_since(today, contact_overdue_days() if days is None else days)
        return Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=since)
    if show == REVIEW:
        from .selectors import REVIEW_DUE_SOON_DAYS  # selectors imports this module

        # As the team's review list: people in the programme whose plan's
        # review is overdue or due soon, or who have no plan yet.
        return Q(status__in=ACTIVE_STATUSES) & (
            Q(plan_review_on__isnull=True)
            | Q(plan_review_on__lte=today + timedelta(days=REVIEW_DUE_SOON_DAYS))
        )
    if show == INCIDENTS:
        return Q(open_incident_count__gt=0)
    if show == CRISIS:
        return Q(open_placement_name__isnull=False)
    raise ValueError(show)


def caseload_counts(*, user, today: date) -> dict[str, int]:
    """The caseload's size and how many rows each ``show`` picks out, with
    the overdue reviews and the oldest last contact: one query."""
    overdue_review = Q(status__in=ACTIVE_STATUSES, plan_review_on__lt=today)
    counts = caseload_queryset(user=user).aggregate(
        total=Count("pk"),
        never=Count("pk", filter=Q(last_visit_at__isnull=True)),
        review_overdue=Count("pk", filter=overdue_review),
        incident_total=Coalesce(Sum("open_incident_count"), Value(0)),
        **{show: Count("pk", filter=condition(show, today=today)) for show in SHOWS},
    )
    return counts


def unsigned_visits(*, user, now: datetime | None = None) -> QuerySet[SupportVisit]:
    """The user's own journal entries left unsigned for more than a day
    (``SupportVisit.LOCK_AFTER``): only the author may sign them."""
    now = now or timezone.now()
    return (
        SupportVisit.objects.filter(
            author=user, signed_at__isnull=True, created_at__lte=now - SupportVisit.LOCK_AFTER
        )
        .filter(participant__anonymised_at__isnull=True)
        .select_related("participant")
        .order_by("started_at", "pk")
    )
