"""Reads of the housing app, scoped by role.

Housing data is the team's (support staff and unit managers); every other
role gets nothing here: lists are empty and single records answer 404, the
same as a missing one.
"""

import datetime
from collections.abc import Collection

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from bostadforst.identity import Viewer, hidden_ids, shown_order
from bostadforst.models import User
from bostadforst.roles import TEAM, Role, role_of
from bostadforst.scope import unscoped
from participants.models import EligibilityAssessment, Participant

from .models import Apartment, Landlord, Tenancy, TenancyIncident


class Occupancy:
    """Apartment list filter values, derived from tenancies (not stored)."""

    VACANT = "vacant"
    LET = "let"
    CHOICES = (VACANT, LET)


def _is_team(user) -> bool:
    return role_of(user) in TEAM


def _active_tenancies(day: datetime.date) -> QuerySet[Tenancy]:
    return Tenancy.objects.active_on(day)


def _letting(day: datetime.date) -> QuerySet[Tenancy]:
    """Every tenancy active on ``day``, whoever's: whether an apartment is
    let is not limited by the viewer's row scope (who lets it is)."""
    with unscoped():
        return Tenancy.objects.active_on(day)


def landlord_list(*, user) -> QuerySet[Landlord]:
    if not _is_team(user):
        return Landlord.objects.none()
    return Landlord.objects.all()


def apartment_list(
    *,
    user,
    occupancy: str = "",
    landlord: Landlord | int | None = None,
    q: str = "",
    day: datetime.date | None = None,
) -> QuerySet[Apartment]:
    """Apartments with ``is_let``, ``open_incident_count`` and
    ``current_tenancies`` (the tenancy active on ``day``, with its tenant):
    three queries for a page whatever its length (page, count, prefetch)."""
    if not _is_team(user):
        return Apartment.objects.none()
    day = day or timezone.localdate()
    active = _active_tenancies(day)
    open_incidents = (
        TenancyIncident.objects.filter(tenancy__apartment=OuterRef("pk"), resolved_on__isnull=True)
        .order_by()
        .values("tenancy__apartment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        Apartment.objects.select_related("landlord")
        .annotate(
            is_let=Exists(_letting(day).filter(apartment=OuterRef("pk"))),
            open_incident_count=Subquery(open_incidents),
        )
        .prefetch_related(
            Prefetch(
                "tenancies",
                queryset=active.select_related("participant"),
                to_attr="current_tenancies",
            )
        )
        .order_by(*shown_order("address", kind="apartment"), "pk")
    )
    if occupancy == Occupancy.VACANT:
        qs = qs.filter(is_let=False, status=Apartment.Status.ACTIVE)
    elif occupancy == Occupancy.LET:
        qs = qs.filter(is_let=True)
    if landlord:
        qs = qs.filter(landlord=landlord)
    if q:
        qs = qs.filter(
            Q(address__icontains=q) | Q(postal_code__icontains=q) | Q(city__icontains=q)
        ).exclude(pk__in=hidden_ids("apartment"))
    return qs


def apartment_queryset(*, user) -> QuerySet[Apartment]:
    if not _is_team(user):
        return Apartment.objects.none()
    return Apartment.objects.select_related("landlord")


def apartment_detail_queryset(*, user) -> QuerySet[Apartment]:
    """For the apartment page: its tenancy history (newest first) with tenants
    and incidents, prefetched."""
    if not _is_team(user):
        return Apartment.objects.none()
    return Apartment.objects.select_related("landlord").prefetch_related(
        Prefetch(
            "tenancies",
            queryset=Tenancy.objects.select_related("participant").order_by("-move_in", "-pk"),
            to_attr="tenancy_history",
        ),
        Prefetch(
            "tenancy_history__incidents",
            queryset=TenancyIncident.objects.order_by("occurred_on", "pk"),
        ),
    )


def tenancy_queryset(*, user) -> QuerySet[Tenancy]:
    if not _is_team(user):
        return Tenancy.objects.none()
    return Tenancy.objects.select_related("participant", "apartment__landlord", "provider")


def tenancy_last_correction(*, tenancy: Tenancy):
    """The latest history row that corrected the takeover date (it carries the
    reason given), with its user; None when it was never corrected. One query."""
    return (
        tenancy.history.filter(history_change_reason__isnull=False)
        .exclude(history_change_reason="")
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )


def tenancy_list_for_participant(*, user, participant: Participant) -> list[Tenancy]:
    """The participant's tenancies, newest first, with their incidents."""
    if not _is_team(user):
        return []
    return list(
        tenancy_queryset(user=user)
        .filter(participant=participant)
        .prefetch_related(
            Prefetch("incidents", queryset=TenancyIncident.objects.order_by("occurred_on", "pk"))
        )
        .order_by("-move_in", "-pk")
    )


def incident_queryset(*, user) -> QuerySet[TenancyIncident]:
    if not _is_team(user):
        return TenancyIncident.objects.none()
    return TenancyIncident.objects.select_related(
        "tenancy__participant", "tenancy__apartment__landlord"
    )


def eviction_risk_list(*, user, day: datetime.date | None = None) -> QuerySet[TenancyIncident]:
    """Open rent arrears and notices of termination on tenancies not yet
    ended on ``day``, oldest first: the longest-running threat comes first."""
    day = day or timezone.localdate()
    return incident_queryset(user=user).eviction_risks(day).order_by("occurred_on", "pk")


def participant_choices(*, user) -> QuerySet[Participant]:
    """Every participant the team may pick in a housing form."""
    if not _is_team(user):
        return Participant.objects.none()
    return Participant.objects.all()


def assignable_participants(*, user) -> QuerySet[Participant]:
    """Participants an apartment may be let to (approved, or housed and moving),
    the approved first. People imported with only the municipality's
    reference (no name) are not offered: the team cannot tell them apart, and
    they are not waiting for an apartment.

    Each row carries ``last_assessor_id`` (``support_worker_default``)."""
    if not _is_team(user):
        return Participant.objects.none()
    return (
        Participant.objects.active()
        .exclude(first_name="", last_name="")
        .annotate(last_assessor_id=Subquery(_last_assessor()))
        .order_by("status", *shown_order("last_name", "first_name"), "pk")
    )


def _last_assessor():
    """Who recorded the person's latest eligibility answer (a subquery)."""
    return (
        EligibilityAssessment.objects.filter(
            referral__participant=OuterRef("pk"), assessor__isnull=False
        )
        .order_by("-assessed_on", "-pk")
        .values("assessor_id")[:1]
    )


def support_staff() -> QuerySet[User]:
    """The support workers a tenant can be given: active users with the
    support-staff role."""
    return (
        User.objects.filter(groups__name=Role.SUPPORT_STAFF.value, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


def support_worker_default(
    *, current_id: int | None, assessor_id: int | None, staff_ids: Collection[int]
) -> int | None:
    """The support worker a letting starts from: the person's own support
    worker if they have one, else whoever assessed their eligibility (the one
    who knows them), as long as that is an active support worker."""
    for candidate in (current_id, assessor_id):
        if candidate is not None and candidate in staff_ids:
            return candidate
    return None


def support_worker_default_for(*, participant: Participant) -> User | None:
    """``support_worker_default`` for one person (two queries)."""
    assessor_id = (
        Participant.objects.filter(pk=participant.pk)
        .annotate(last_assessor_id=Subquery(_last_assessor()))
        .values_list("last_assessor_id", flat=True)
        .first()
    )
    candidates = {participant.support_worker_id, assessor_id} - {None}
    staff = {u.pk: u for u in support_staff().filter(pk__in=candidates)}
    pk = support_worker_default(
        current_id=participant.support_worker_id, assessor_id=assessor_id, staff_ids=staff
    )
    return staff.get(pk)


def lettable_apartments(*, user) -> QuerySet[Apartment]:
    if not _is_team(user):
        return Apartment.objects.none()
    letting = _letting(timezone.localdate())
    return (
        Apartment.objects.filter(status=Apartment.Status.ACTIVE)
        .select_related("landlord")
        .annotate(is_let=Exists(letting.filter(apartment=OuterRef("pk"))))
        .order_by("is_let", *shown_order("address", kind="apartment"), "pk")
    )


def hidden_apartments(viewer: Viewer) -> list[int]:
    """Apartments whose address ``viewer`` may not see: where a protected
    person hidden from them lives now or will move in (``bostadforst.identity``).
    No query when no one is hidden."""
    people = viewer.hidden("person")
    if not people:
        return []
    today = timezone.localdate()
    return list(
        Tenancy._base_manager.filter(participant_id__in=people)
        .filter(Q(move_out__isnull=True) | Q(move_out__gt=today))
        .values_list("apartment_id", flat=True)
    )
