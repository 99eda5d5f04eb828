"""The support app's reminder: a plan review due soon, to the support worker
responsible (``bostadforst.reminders``)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from bostadforst.reminders import Due, ReminderKind
from bostadforst.roles import Role
from participants.models import ACTIVE_STATUSES

from .models import ActionPlan


def plan_reviews_due(*, today) -> list[Due]:
    """Current plans (each person's highest version) of people in the
    programme whose review falls within the next REMINDER_REVIEW_DAYS days,
    each to the person's support worker, or the plan's author when the person
    has none. One query. The review date is the event, so a plan whose review
    is moved is announced again for the new date, and a run missed on one
    day is made up on the next."""
    newer = ActionPlan.objects.filter(
        participant=OuterRef("participant"), number__gt=OuterRef("number")
    )
    rows = (
        ActionPlan.objects.filter(
            participant__status__in=ACTIVE_STATUSES,
            participant__anonymised_at__isnull=True,
            review_on__gte=today,
            review_on__lte=today + timedelta(days=settings.REMINDER_REVIEW_DAYS),
        )
        .filter(~Exists(newer))
        .values_list("pk", "review_on", "participant__support_worker_id", "created_by_id")
    )
    return [
        Due(
            object_id=pk,
            event_key=review_on.isoformat(),
            path=reverse("support:plan-detail", kwargs={"pk": pk}),
            recipient_ids=(worker or author,),
        )
        for pk, review_on, worker, author in rows
    ]


PLAN_REVIEW_DUE = ReminderKind(
    key="plan_review_due",
    order=10,
    label=_("A plan review is due soon"),
    description=_(
        "%(days)s days before the review date of an action plan of someone you are the "
        "support worker for."
    ),
    subject=_("Reminder: action plan review"),
    text=ngettext_lazy(
        "A review of an action plan is due within %(days)s days.",
        "%(count)s reviews of action plans are due within %(days)s days.",
        "count",
    ),
    roles=frozenset({Role.SUPPORT_STAFF}),
    days_setting="REMINDER_REVIEW_DAYS",
    find=plan_reviews_due,
)
