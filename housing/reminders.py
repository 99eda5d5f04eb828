"""The housing app's reminder: a tenant without a support worker, to the unit
managers (``bostadforst.reminders``)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from bostadforst.reminders import Due, ReminderKind
from bostadforst.roles import Role
from participants.models import Participant

from .models import Tenancy


def tenants_without_support_worker(*, today) -> list[Due]:
    """Current tenancies whose tenant has had no support worker for at least
    REMINDER_UNASSIGNED_DAYS days, to every unit manager. One query.

    The days count from the later of the move-in and the day the person
    lost their support worker: the first change in the person's history
    after the last version that named one. A tenant whose worker leaves
    after two years is announced after the same number of days as a new
    tenant, not at once. Where the history names no worker (never assigned,
    or imported without history) or does not show the loss (the worker's
    account deleted), the days count from the move-in.

    The spell without a worker is the event (its first day): one reminder
    per spell, and someone assigned and later removed again is announced
    again for the new spell."""
    days = settings.REMINDER_UNASSIGNED_DAYS
    versions = Participant.history.model.objects
    # Inside ``lost_at``: the versions of the same person (its row's ``id``).
    last_assigned = (
        versions.filter(id=OuterRef("id"), support_worker__isnull=False)
        .order_by("-history_date")
        .values("history_date")[:1]
    )
    lost_at = (
        versions.filter(id=OuterRef("participant_id"), history_date__gt=Subquery(last_assigned))
        .order_by("history_date")
        .values("history_date")[:1]
    )
    # Lost on or before the cut-off day (local): before the next day begins.
    cutoff = today - timedelta(days=days)
    lost_by = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    rows = (
        Tenancy.objects.active_on(today)
        .filter(
            move_in__lte=cutoff,
            participant__support_worker__isnull=True,
            participant__anonymised_at__isnull=True,
        )
        .annotate(lost_at=Subquery(lost_at))
        .filter(Q(lost_at__isnull=True) | Q(lost_at__lt=lost_by))
        .values_list("pk", "move_in", "lost_at", "participant_id")
    )
    due = []
    for pk, move_in, lost, participant_id in rows:
        since = max(move_in, timezone.localdate(lost)) if lost is not None else move_in
        due.append(
            Due(
                object_id=pk,
                event_key=since.isoformat(),
                path=reverse("participants:participant-detail", kwargs={"pk": participant_id}),
                roles=frozenset({Role.UNIT_MANAGER}),
            )
        )
    return due


TENANT_WITHOUT_SUPPORT_WORKER = ReminderKind(
    key="tenant_without_support_worker",
    order=30,
    label=_("A tenant has no support worker"),
    description=_(
        "When someone has lived in their apartment for %(days)s days without an assigned "
        "support worker."
    ),
    subject=_("Reminder: tenant without a support worker"),
    text=ngettext_lazy(
        "A tenant has been without an assigned support worker for %(days)s days.",
        "%(count)s tenants have been without an assigned support worker for %(days)s days.",
        "count",
    ),
    roles=frozenset({Role.UNIT_MANAGER}),
    days_setting="REMINDER_UNASSIGNED_DAYS",
    find=tenants_without_support_worker,
)
