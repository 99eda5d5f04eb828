"""Planned visits, the undo of a visit just logged, and the worker's calendar
feed (issue 17): reads scoped by the user and writes through the one write
path (``bostadforst.records``), one transaction each.

A plan belongs to the team member who is to make the visit (``staff``) and is
reached by them and by whoever planned it; anyone else gets a 404.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_delete, record_save
from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of
from bostadforst.scope import scoped_as
from participants.models import Participant

from .models import CalendarFeed, Goal, PlannedVisit, SupportVisit
from .selectors import is_team, team_members
from .services import visit_log

ERRORS = {
    "plan_in_past": _("A visit cannot be planned for a day that has passed."),
    "plan_not_open": _(
        "This planned visit is no longer open (it has been logged or cancelled). Nothing was saved."
    ),
    "plan_in_future": _(
        "The planned visit is on %(day)s: a visit can be logged on its day, not before."
    ),
    "undo_expired": _(
        "The visit can no longer be undone: the few minutes for it have passed (it was saved "
        "at %(saved)s). Write a correction instead."
    ),
    "undo_not_author": _("Only the author of a visit can undo it."),
    "undo_corrected": _("The visit has a correction and can no longer be undone."),
    "staff_not_team": _("Only members of the team can be named."),
}


def _error(field_name: str | None, code: str, **params) -> ValidationError:
    error = ValidationError(ERRORS[code], code=code, params=params or None)
    return ValidationError({field_name: [error]}) if field_name else error


# --- Reads -------------------------------------------------------------------

# The most plans the worker's list shows in one group (missed, later): a
# worker with hundreds of open plans has a problem the list cannot solve, and
# the page must not grow without bound.
PLAN_LIST_CAP = 100
# The calendar feed's window: a month back (recent plans stay in the
# calendar app with their status) and half a year ahead.
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 180


def planned_visit_queryset(*, user) -> QuerySet[PlannedVisit]:
    """The plans ``user`` may open: those they are to make or planned
    themselves (team only). Another worker's plans are a 404."""
    if not is_team(user):
        return PlannedVisit.objects.none()
    return PlannedVisit.objects.filter(Q(staff=user) | Q(created_by=user)).select_related(
        "participant", "staff", "created_by", "visit"
    )


def week_end(today: date) -> date:
    """The last day (Sunday) of ``today``'s week (Swedish weeks start on Monday)."""
    return today + timedelta(days=6 - today.weekday())


def _local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass
class PlannedVisitGroups:
    missed: list[PlannedVisit]
    today: list[PlannedVisit]
    this_week: list[PlannedVisit]
    later: list[PlannedVisit]
    capped: bool


def planned_visits_for(*, user, today: date) -> PlannedVisitGroups:
    """The user's open plans (still ``planned``) grouped for their list:
    missed (a past day), today, the rest of this week, later. Two queries."""
    base = planned_visit_queryset(user=user).filter(staff=user, status=PlannedVisit.Status.PLANNED)
    start_today = _local_day_start(today)
    # Missed ones latest first (the most recent are the likeliest to log
    # late); the others in the order they come.
    missed = list(
        base.filter(planned_at__lt=start_today).order_by("-planned_at", "-pk")[:PLAN_LIST_CAP]
    )
    upcoming = list(
        base.filter(planned_at__gte=start_today).order_by("planned_at", "pk")[: PLAN_LIST_CAP + 1]
    )
    capped = len(missed) == PLAN_LIST_CAP or len(upcoming) > PLAN_LIST_CAP
    upcoming = upcoming[:PLAN_LIST_CAP]
    tomorrow, sunday = today + timedelta(days=1), week_end(today)
    groups = PlannedVisitGroups(missed=missed, today=[], this_week=[], later=[], capped=capped)
    for plan in upcoming:
        day = timezone.localtime(plan.planned_at).date()
        if day == today:
            groups.today.append(plan)
        elif tomorrow <= day <= sunday:
            groups.this_week.append(plan)
        else:
            groups.later.append(plan)
    return groups


def planned_visit_counts(*, user, today: date) -> dict[str, int]:
    """How many of the user's open plans are today, later this week and
    missed (one query), for the start page."""
    start_today = _local_day_start(today)
    start_tomorrow = _local_day_start(today + timedelta(days=1))
    after_week = _local_day_start(week_end(today) + timedelta(days=1))
    return PlannedVisit.objects.filter(
        staff=user, status=PlannedVisit.Status.PLANNED, planned_at__lt=after_week
    ).aggregate(
        today=Count("pk", filter=Q(planned_at__gte=start_today, planned_at__lt=start_tomorrow)),
        this_week=Count("pk", filter=Q(planned_at__gte=start_tomorrow)),
        missed=Count("pk", filter=Q(planned_at__lt=start_today)),
    )


def next_planned_visit(*, participant: Participant, now: datetime) -> PlannedVisit | None:
    """The participant's next open plan from today on, with its staff member."""
    return (
        PlannedVisit.objects.filter(
            participant=participant,
            status=PlannedVisit.Status.PLANNED,
            planned_at__gte=_local_day_start(timezone.localtime(now).date()),
        )
        .select_related("staff")
        .order_by("planned_at", "pk")
        .first()
    )


def calendar_feed_for_token(token_hash: str) -> CalendarFeed | None:
    """The feed whose token hashes to ``token_hash``, if its user is still
    an active member of the team (a feed of someone who left answers 404)."""
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=token_hash).first()
    if feed is None or not feed.user.is_active or not is_team(feed.user):
        return None
    return feed


def calendar_feed_plans(*, user, now: datetime) -> QuerySet[PlannedVisit]:
    """The plans a worker's calendar feed holds: theirs, FEED_DAYS_BACK days
    back to FEED_DAYS_AHEAD days ahead, whatever their status (a cancelled
    plan stays, marked cancelled, so the calendar app removes it). Fetched
    without a login, so the worker's own row scope is applied here
    (``bostadforst.scope``)."""
    with scoped_as(user):
        plans = PlannedVisit.objects.all()
    return (
        plans.filter(
            staff=user,
            planned_at__gte=now - timedelta(days=FEED_DAYS_BACK),
            planned_at__lt=now + timedelta(days=FEED_DAYS_AHEAD),
        )
        .only(
            "pk",
            "participant_id",
            "planned_at",
            "duration_minutes",
            "status",
            "updated_at",
            "created_at",
            "version",
        )
        .order_by("planned_at", "pk")
    )


# --- Writes ------------------------------------------------------------------


@transaction.atomic
def visit_undo(*, visit: SupportVisit, acting_user) -> PlannedVisit | None:
    """Take back a visit just saved (issue 17), within ``undo_window()``
    of saving it: its author only, signed or not.

    The entry is removed through the write path: its change history keeps
    every saved version and a last row naming who removed it, and the access
    log a ``delete`` row, so the withdrawn entry stays auditable. The plan it
    fulfilled (if any) is open again, and is returned.
    """
    if visit.author_id != acting_user.pk:
        raise _error(None, "undo_not_author")
    if not visit.can_undo():
        saved = timezone.localtime(visit.created_at)
        raise _error(None, "undo_expired", saved=f"{saved:%Y-%m-%d %H:%M}")
    if visit.corrections.exists():
        raise _error(None, "undo_corrected")
    plan = PlannedVisit.objects.select_for_update().filter(visit=visit).first()
    if plan is not None:
        plan.visit = None
        plan.status = PlannedVisit.Status.PLANNED
        record_save(plan, acting_user=acting_user, reason=gettext("The logged visit was undone"))
    # The removal's history row names acting_user (record_delete sets it).
    record_delete(visit, acting_user=acting_user)
    return plan


# --- Planned visits --------------------------------------------------------------


def _check_plan(*, planned_at: datetime, staff) -> None:
    errors: dict[str, list] = {}
    if timezone.localtime(planned_at).date() < timezone.localdate():
        errors["planned_at"] = [_error(None, "plan_in_past")]
    if not team_members().filter(pk=staff.pk).exists():
        errors["staff"] = [_error(None, "staff_not_team")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def planned_visit_create(
    *,
    participant: Participant,
    staff,
    planned_at: datetime,
    duration_minutes: int | None = None,
    note: str = "",
    acting_user,
) -> PlannedVisit:
    """Plan a visit with ``participant`` for ``staff`` (a team member)."""
    _check_plan(planned_at=planned_at, staff=staff)
    plan = PlannedVisit(
        participant=participant,
        staff=staff,
        planned_at=planned_at,
        duration_minutes=duration_minutes,
        note=note,
        created_by=acting_user,
    )
    record_save(plan, acting_user=acting_user)
    return plan


@transaction.atomic
def planned_visit_cancel(*, plan: PlannedVisit, acting_user) -> PlannedVisit:
    """Call off an open plan (it stays, marked cancelled, also in the calendar)."""
    if plan.status != PlannedVisit.Status.PLANNED:
        raise _error(None, "plan_not_open")
    plan.status = PlannedVisit.Status.CANCELLED
    record_save(plan, acting_user=acting_user)
    return plan


@transaction.atomic
def planned_visit_log(
    *,
    plan: PlannedVisit,
    started_at: datetime,
    duration_minutes: int,
    kind: str,
    staff: Iterable,
    note: str = "",
    goals: Iterable[Goal] = (),
    sign: bool = False,
    acting_user,
) -> SupportVisit:
    """Log the visit a plan was for, and mark the plan logged with a link to
    it: one transaction, so there is never a logged plan without its visit
    or a visit that left its plan open."""
    # Lock the plan row: two taps on two devices log one visit, not two.
    current = PlannedVisit.objects.select_for_update().get(pk=plan.pk)
    if current.status != PlannedVisit.Status.PLANNED:
        raise _error(None, "plan_not_open")
    if not current.can_be_logged():
        day = timezone.localtime(current.planned_at)
        raise _error(None, "plan_in_future", day=f"{day:%Y-%m-%d}")
    visit = visit_log(
        participant=current.participant,
        started_at=started_at,
        duration_minutes=duration_minutes,
        kind=kind,
        staff=staff,
        note=note,
        goals=goals,
        sign=sign,
        acting_user=acting_user,
    )
    current.status = PlannedVisit.Status.LOGGED
    current.visit = visit
    record_save(current, acting_user=acting_user)
    return visit


# --- Calendar feed ---------------------------------------------------------------


def calendar_token_hash(token: str) -> str:
    """What is stored of a feed token: its SHA-256 (the token is 256 random
    bits, so a plain hash is enough; no salt or slow hash needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_reset(*, user) -> str:
    """Give ``user`` a new secret calendar address and return its token.

    The token is returned once and only its hash is stored, so the previous
    address stops working in the same transaction.
    """
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        feed = CalendarFeed(user=user)
    feed.token_hash = calendar_token_hash(token)
    record_save(feed, acting_user=user)
    return token


# --- Start page ------------------------------------------------------------------


def planned_visit_queue(*, user, today: date) -> list[QueueItem]:
    """The support worker's work-queue cards (``start_page_queues``): today's
    and this week's planned visits, and missed ones when there are any; one
    query. Each links to "Planerade besök", which lists exactly these."""
    if role_of(user) != Role.SUPPORT_STAFF:
        return []
    counts = planned_visit_counts(user=user, today=today)
    url = reverse("support:planned-visit-list")
    items = [
        QueueItem(
            key="planned-visits-today",
            order=5,
            title=gettext("Planned visits today"),
            count=counts["today"],
            explanation=gettext("Visits you have planned for today and not yet logged."),
            detail=gettext("%(count)s more later this week.") % {"count": counts["this_week"]},
            url=url,
            link_text=gettext("Planned visits"),
        )
    ]
    if counts["missed"]:
        items.append(
            QueueItem(
                key="planned-visits-missed",
                order=6,
                title=gettext("Missed visits"),
                count=counts["missed"],
                explanation=gettext("Planned for a day that has passed and not logged."),
                url=url + "#missed",
                link_text=gettext("Log or cancel them"),
                alert=True,
            )
        )
    return items
