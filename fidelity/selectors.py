"""Reads of the fidelity self-assessment, scoped to the user.

Unit managers see every assessment; support staff the ones they took part in
or recorded. Everyone else sees none (the access table keeps them out too).
"""

from django.db.models import Prefetch, Q, QuerySet

from bostadforst.roles import Role, role_of

from .models import Assessment, Domain, Item, Score


def assessment_queryset(*, user) -> QuerySet[Assessment]:
    """The assessments ``user`` may see (no related rows loaded)."""
    role = role_of(user)
    if role == Role.UNIT_MANAGER:
        return Assessment.objects.all()
    if role == Role.SUPPORT_STAFF:
        return Assessment.objects.filter(Q(staff=user) | Q(recorded_by=user)).distinct()
    return Assessment.objects.none()


def assessment_with_scores(*, user) -> QuerySet[Assessment]:
    """``assessment_queryset`` with scores, their items and the staff loaded."""
    return assessment_queryset(user=user).prefetch_related(
        Prefetch("scores", queryset=Score.objects.select_related("item__domain")),
        "staff",
    )


def assessment_list(*, user) -> QuerySet[Assessment]:
    """The assessments ``user`` may see, newest first, with what the list shows."""
    return assessment_with_scores(user=user).order_by("-date", "-pk")


def domain_list() -> list[Domain]:
    """Every domain, in order (results list all of them)."""
    return list(Domain.objects.order_by("order", "pk"))


def active_items() -> QuerySet[Item]:
    """The items a new assessment scores, by domain and order."""
    return (
        Item.objects.filter(is_active=True)
        .select_related("domain")
        .order_by("domain__order", "domain_id", "order", "pk")
    )


def assessment_latest(*, on_or_before) -> Assessment | None:
    """The latest assessment dated on or before ``on_or_before``, with its
    scores and their items loaded (two queries; one when there is none).

    For the board report, which only unit managers read, and they see every
    assessment (``assessment_queryset``); the report is made by a background
    job, which has no user to scope by.
    """
    return (
        Assessment.objects.filter(date__lte=on_or_before)
        .order_by("-date", "-pk")
        .prefetch_related(Prefetch("scores", queryset=Score.objects.select_related("item")))
        .first()
    )
