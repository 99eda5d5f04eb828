"""The participants app's reminder: a referral decided, to the social worker
who referred (``bostadforst.reminders``)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from bostadforst.reminders import Due, ReminderKind
from bostadforst.roles import Role

from .models import Referral, ReferralStatus


def referrals_decided(*, today) -> list[Due]:
    """Referrals approved or declined within the last REMINDER_DECISION_DAYS
    days, each to the social worker who referred. One query. The decision's
    time is the event, so a decision taken again is announced again."""
    since = timezone.make_aware(
        datetime.combine(today - timedelta(days=settings.REMINDER_DECISION_DAYS), time.min)
    )
    rows = Referral.objects.filter(
        status__in=[ReferralStatus.APPROVED, ReferralStatus.DECLINED],
        decided_at__gte=since,
    ).values_list("pk", "decided_at", "referred_by_id")
    return [
        Due(
            object_id=pk,
            event_key=decided_at.isoformat(),
            path=reverse("participants:referral-detail", kwargs={"pk": pk}),
            recipient_ids=(referred_by,),
        )
        for pk, decided_at, referred_by in rows
    ]


REFERRAL_DECIDED = ReminderKind(
    key="referral_decided",
    order=20,
    label=_("A referral of yours has been decided"),
    description=_("When the unit manager approves or declines a referral you made."),
    subject=_("Reminder: referral decided"),
    text=ngettext_lazy(
        "A referral you made has been decided. Log in to see the decision.",
        "%(count)s referrals you made have been decided. Log in to see the decisions.",
        "count",
    ),
    roles=frozenset({Role.SOCIAL_WORKER}),
    find=referrals_decided,
)
