"""Reads of support data, scoped by the user's role.

The team (support staff and unit managers) reads every participant's support
record. Social workers reach only people they referred, and only a summary
(``participant_summary``): never a journal note, a goal text or a placement
reason. Every ``*_get_for_user`` answers Http404 for both "missing" and "not
allowed", so a record's existence is not revealed.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from bostadforst.identity import shown_order
from bostadforst.models import User
from bostadforst.roles import TEAM, role_of
from participants.models import Participant, ParticipantStatus

from . import caseload
from .models import (
    ActionPlan,
    Activity,
    Attendance,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    GoalAction,
    SupportVisit,
)

# A review within this many days counts as "due soon" in the team's lists.
REVIEW_DUE_SOON_DAYS = 14

# Participants the team works with (pickers, review list): not yet housed but
# approved, or housed. Referred/assessing people have no support record yet.


class ReviewStatus:
    MISSING = "missing"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    OK = "ok"


def review_status(review_on: date | None, *, today: date) -> str:
    """Where a plan's review date stands on ``today``.

    A review is overdue from the day after its date: a plan reviewed on its
    due day is on time.
    """
    if review_on is None:
        return ReviewStatus.MISSING
    if review_on < today:
        return ReviewStatus.OVERDUE
    if review_on <= today + timedelta(days=REVIEW_DUE_SOON_DAYS):
        return ReviewStatus.DUE_SOON
    return ReviewStatus.OK


def is_team(user) -> bool:
    return role_of(user) in TEAM


def _require_team(user) -> None:
    if not is_team(user):
        raise Http404


def participant_queryset(*, user) -> QuerySet[Participant]:
    """The participants whose support records ``user`` may reach: the team's
    (everyone); nobody for other roles. A referring social worker follows
    their referral on its own page, never through the support records (and a
    referral matched to a known person must not open that person's)."""
    if role_of(user) in TEAM:
        return Participant.objects.all()
    return Participant.objects.none()


def participant_choices(*, user) -> QuerySet[Participant]:
    """Active participants for a picker, the user's own caseload first."""
    if not is_team(user):
        return Participant.objects.none()
    return (
        Participant.objects.active()
        .annotate(
            caseload_rank=Case(
                When(support_worker=user, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("caseload_rank", *shown_order("last_name", "first_name"), "pk")
    )


# How far back "recently visited" and "recent co-workers" reach, and how many
# options a picker shows: the quick-log page must not grow with the
# municipality (thousands of participants, hundreds of staff). The fields
# still accept anyone in the full scope by id; these only bound what is shown.
RECENT_DAYS = 90
PICKER_CAP = 200
STAFF_PICKER_CAP = 40


def recent_visit_ids(*, user) -> list[int]:
    """The ids of the visits the user wrote or took part in during the last
    RECENT_DAYS days, in one query from the author and the staff indexes: an
    OR across the staff join made PostgreSQL scan every visit (0.6 s a picker
    at a million visits). A form with both pickers reads them once and hands
    them to each (``recent_ids``)."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    authored = SupportVisit.objects.filter(author=user, started_at__gte=since)
    joined = SupportVisit.staff.through.objects.filter(
        user=user, supportvisit__started_at__gte=since
    )
    # No ORDER BY inside a UNION (SQLite refuses it; visits have a default order).
    ids = (
        authored.order_by()
        .values_list("pk", flat=True)
        .union(joined.order_by().values_list("supportvisit_id", flat=True))
    )
    return list(ids)


def participant_picker(*, user, include_pk=None, recent_ids=None) -> list[Participant]:
    """The quick-log picker's options, in one query and at most PICKER_CAP.

    The user's caseload (``caseload_rank`` 0), the housed tenants the user
    logged a visit with in the last RECENT_DAYS days (1), then the rest of
    the team's housed tenants (2) up to the cap: a programme of a usual size
    shows everyone, a large one the people this worker meets. People
    approved but not yet housed are offered only from the user's own
    caseload, and records imported with only the municipality's reference
    (no name) never: nobody can tell them apart in a list. ``include_pk`` (a
    preselected or posted participant) is always shown and sorts first
    before the cap cuts.
    """
    if recent_ids is None:
        recent_ids = recent_visit_ids(user=user)
    recent = SupportVisit.objects.filter(pk__in=recent_ids).values("participant_id")
    chosen = Q(pk=include_pk or 0)
    rows = (
        participant_choices(user=user)
        .filter(Q(support_worker=user) | Q(status=ParticipantStatus.HOUSED) | chosen)
        .exclude(Q(first_name="", last_name="") & ~chosen)
        .annotate(
            caseload_rank=Case(
                When(support_worker=user, then=Value(0)),
                When(pk__in=Subquery(recent), then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            must_show=Case(
                When(pk=include_pk or 0, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("must_show", "caseload_rank", *shown_order("last_name", "first_name"), "pk")[
            :PICKER_CAP
        ]
    )
    return sorted(rows, key=lambda p: (p.caseload_rank, p.last_name, p.first_name, p.pk))


def staff_picker(*, user, participant=None, include_pks=(), recent_ids=None) -> list[User]:
    """The visit forms' staff options, in one query and at most STAFF_PICKER_CAP.

    Staff already chosen (``include_pks``) and the acting user first, then the
    participant's support worker and whoever took part in the user's visits
    in the last RECENT_DAYS days, then the rest of the team up to the cap: a
    team of a usual size is shown whole, a large one the people this worker
    visits with.
    """
    if recent_ids is None:
        recent_ids = recent_visit_ids(user=user)
    # The ids as a list: a nested IN over the staff join made PostgreSQL scan
    # it whole (0.2 s at a million visits).
    recent = set(
        SupportVisit.staff.through.objects.filter(supportvisit_id__in=recent_ids).values_list(
            "user_id", flat=True
        )
    )
    must = {user.pk, *include_pks}
    near = Q(pk__in=recent)
    if participant is not None and participant.support_worker_id:
        near |= Q(pk=participant.support_worker_id)
    rows = (
        team_members()
        .annotate(
            rank=Case(
                When(pk__in=must, then=Value(0)),
                When(near, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "first_name", "last_name", "pk")[:STAFF_PICKER_CAP]
    )
    return sorted(rows, key=lambda u: (u.first_name, u.last_name, u.pk))


def team_members() -> QuerySet[User]:
    """Users who may be named as staff on a visit or an action."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[r.value for r in TEAM])
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


# --- Action plans --------------------------------------------------------------


def _latest_plan(participant_ref) -> QuerySet[ActionPlan]:
    return ActionPlan.objects.filter(participant=participant_ref).order_by("-number")


def plan_current(*, participant: Participant) -> ActionPlan | None:
    """The participant's current plan (highest version), goals and actions loaded."""
    return _plan_queryset().filter(participant=participant).order_by("-number").first()


def plan_current_bare(*, participant: Participant) -> ActionPlan | None:
    """The participant's current plan alone, nothing else loaded: for the
    visit forms, which only offer its goals (``plan_current`` also reads every
    goal and action, two more queries a request)."""
    return _latest_plan(participant).first()


def _plan_queryset() -> QuerySet[ActionPlan]:
    actions = GoalAction.objects.select_related("staff", "partner").order_by("by_when", "pk")
    goals = Goal.objects.prefetch_related(Prefetch("actions", queryset=actions))
    return ActionPlan.objects.select_related("participant", "created_by").prefetch_related(
        Prefetch("goals", queryset=goals.order_by("position", "pk"))
    )


def plan_queryset(*, user) -> QuerySet[ActionPlan]:
    """Plans the user may open, with goals and actions loaded (team only)."""
    return _plan_queryset() if is_team(user) else ActionPlan.objects.none()


def plan_versions(*, participant: Participant) -> QuerySet[ActionPlan]:
    """Every version, newest first (older versions stay readable)."""
    return (
        ActionPlan.objects.filter(participant=participant)
        .select_related("created_by")
        .annotate(goal_count=Count("goals"))
        .order_by("-number")
    )


def plan_review_list(*, user, today: date) -> list[Participant]:
    """``plan_reviews`` as a list, each row with its ``review_status``."""
    return with_review_status(plan_reviews(user=user, today=today), today=today)


def with_review_status(rows, *, today: date) -> list[Participant]:
    out = list(rows)
    for p in out:
        p.review_status = review_status(p.review_on, today=today)
    return out


def plan_reviews(*, user, today: date) -> QuerySet[Participant]:
    """Active participants whose plan review is overdue, due soon, or who have
    no plan yet. One query (a page of it, for the team's list).

    Most urgent first: overdue reviews (longest overdue first), then people
    without a plan, then reviews due soon. An agreed plan that has lapsed
    comes before a missing one, so a long tail of people without a plan
    cannot push it out of sight.
    """
    if not is_team(user):
        return Participant.objects.none()
    latest = _latest_plan(OuterRef("pk"))
    rows = (
        Participant.objects.active()
        .select_related("support_worker")
        .annotate(
            plan_pk=Subquery(latest.values("pk")[:1]),
            plan_number=Subquery(latest.values("number")[:1]),
            review_on=Subquery(latest.values("review_on")[:1]),
        )
        .filter(
            Q(review_on__isnull=True)
            | Q(review_on__lte=today + timedelta(days=REVIEW_DUE_SOON_DAYS))
        )
        .annotate(
            urgency=Case(
                When(review_on__lt=today, then=Value(0)),
                When(review_on__isnull=True, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("urgency", "review_on", *shown_order("last_name", "first_name"), "pk")
    )
    return rows


# --- Support visits ------------------------------------------------------------


def _visit_queryset() -> QuerySet[SupportVisit]:
    return (
        SupportVisit.objects.select_related("participant", "author", "corrects")
        .prefetch_related("staff")
        .annotate(correction_count=Count("corrections", distinct=True))
    )


def visit_queryset(*, user) -> QuerySet[SupportVisit]:
    """Visits with everything their page shows (team only: journal notes)."""
    if not is_team(user):
        return SupportVisit.objects.none()
    return _visit_queryset().prefetch_related(
        "goals",
        Prefetch(
            "corrections",
            queryset=SupportVisit.objects.select_related("author").order_by("created_at", "pk"),
        ),
    )


def visit_list_for_participant(*, user, participant: Participant) -> QuerySet[SupportVisit]:
    """A participant's visits, newest first; a correction follows right after
    the entry it corrects when they share a time."""
    _require_team(user)
    return _visit_queryset().filter(participant=participant).order_by("-started_at", "pk")


@dataclass
class CaseloadRow:
    participant: Participant
    last_visit_at: datetime | None
    days_since: int | None
    open_incidents: int
    review_on: date | None
    review_status: str
    open_placement: str | None


def caseload_for_user(*, user, today: date, show: str = "") -> list[CaseloadRow]:
    """The support worker's own caseload with what needs attention; with
    ``show`` (``caseload.SHOWS``) only the rows the start page counted.

    One query whatever the size of the caseload (``caseload.caseload_queryset``).
    """
    rows = caseload.caseload_queryset(user=user)
    if show:
        rows = rows.filter(caseload.condition(show, today=today))
    rows = rows.order_by(
        F("last_visit_at").asc(nulls_first=True),
        *shown_order("last_name", "first_name"),
        "pk",
    )
    out = []
    for p in rows:
        days = None
        if p.last_visit_at is not None:
            days = (today - timezone.localtime(p.last_visit_at).date()).days
        out.append(
            CaseloadRow(
                participant=p,
                last_visit_at=p.last_visit_at,
                days_since=days,
                open_incidents=p.open_incident_count,
                review_on=p.plan_review_on,
                review_status=review_status(p.plan_review_on, today=today),
                open_placement=p.open_placement_name,
            )
        )
    return out


# --- Crisis places -------------------------------------------------------------


def crisis_place_occupancy(*, day: date) -> QuerySet[CrisisPlace]:
    """Places in use with ``occupied`` and ``free`` beds on ``day``."""
    return CrisisPlace.objects.with_occupancy(day).order_by("name")


def placements_current(*, user, day: date) -> QuerySet[CrisisPlacement]:
    if not is_team(user):
        return CrisisPlacement.objects.none()
    return (
        CrisisPlacement.objects.active_on(day)
        .select_related("participant", "place")
        .order_by("place__name", "start", "pk")
    )


def placement_queryset(*, user) -> QuerySet[CrisisPlacement]:
    if not is_team(user):
        return CrisisPlacement.objects.none()
    return CrisisPlacement.objects.select_related("participant", "place")


def activity_list(*, user) -> QuerySet[Activity]:
    if not is_team(user):
        return Activity.objects.none()
    return Activity.objects.annotate(attendee_count=Count("attendances")).order_by("-date", "pk")


def activity_queryset(*, user) -> QuerySet[Activity]:
    if not is_team(user):
        return Activity.objects.none()
    return Activity.objects.prefetch_related(
        Prefetch(
            "attendances",
            queryset=Attendance.objects.select_related("participant").order_by(
                "participant__last_name", "participant__first_name", "pk"
            ),
        )
    )


def participation_counts(*, user, since: date) -> QuerySet[Participant]:
    """Participants with how many activities each attended since ``since``."""
    if not is_team(user):
        return Participant.objects.none()
    return (
        Participant.objects.annotate(
            attended=Count("attendances", filter=Q(attendances__activity__date__gte=since))
        )
        .filter(attended__gt=0)
        .order_by("-attended", "last_name", "first_name", "pk")
    )
