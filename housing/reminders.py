"""The housing app's reminder: a tenant without a support worker, to the unit
managers (``bostadforst.reminders``)."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from bostadforst.reminders import Due, ReminderKind
from bostadforst.roles import Role

from .models import Tenancy


def tenants_without_support_worker(*, today) -> list[Due]:
    """Current tenancies that began at least REMINDER_UNASSIGNED_DAYS days ago
    whose tenant has no support worker, to every unit manager. One query.
    The tenancy is the event: one reminder per tenancy (assigning someone
    and later removing them is not announced again)."""
    rows = (
        Tenancy.objects.active_on(today)
        .filter(
            move_in__lte=today - timedelta(days=settings.REMINDER_UNASSIGNED_DAYS),
            participant__support_worker__isnull=True,
            participant__anonymised_at__isnull=True,
        )
        .values_list("pk", "move_in", "participant_id")
    )
    return [
        Due(
            object_id=pk,
            event_key=move_in.isoformat(),
            path=reverse("participants:participant-detail", kwargs={"pk": participant_id}),
            roles=frozenset({Role.UNIT_MANAGER}),
        )
        for pk, move_in, participant_id in rows
    ]


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
