"""The participants app's work-queue items on the start page
(``bostadforst.registry.start_page_queues``).

Each count is taken from the same selector as the list its link opens, so
the list shows exactly the rows counted; every figure is one aggregate query,
whatever the number of referrals or people.
"""

from statistics import median

from django.urls import reverse
from django.utils.translation import gettext, ngettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of

from . import selectors
from .models import ParticipantStatus


def _url(name: str, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse(name) + (f"?{query}" if query else "")


def _social_worker_items(user) -> list[QueueItem]:
    counts = selectors.referrer_change_counts(user=user)
    mine = "participants:my-referrals"
    return [
        QueueItem(
            key="referrals-asked",
            order=10,
            title=gettext("The team asks you for more information"),
            count=counts[selectors.ASKED],
            explanation=gettext(
                "Open referrals where the team's latest message waits for your answer."
            ),
            url=_url(mine, show=selectors.ASKED),
            link_text=gettext("Show the referrals that wait for your answer"),
            alert=counts[selectors.ASKED] > 0,
        ),
        QueueItem(
            key="referrals-decided",
            order=20,
            title=gettext("Decided since your last login"),
            count=counts[selectors.DECIDED],
            explanation=gettext("Your referrals approved or declined since you last logged in."),
            url=_url(mine, show=selectors.DECIDED),
            link_text=gettext("Show the decided referrals"),
        ),
        QueueItem(
            key="referrals-housed",
            order=30,
            title=gettext("Moved in since your last login"),
            count=counts[selectors.HOUSED],
            explanation=gettext(
                "People you referred who have got a home since you last logged in."
            ),
            url=_url(mine, show=selectors.HOUSED),
            link_text=gettext("Show the referrals of people who moved in"),
        ),
    ]


def _manager_items(user, today) -> list[QueueItem]:
    waiting = selectors.referrals_waiting_for_decision(user=user)
    oldest = (today - waiting["oldest"]).days if waiting["oldest"] else None
    days = selectors.waiting_list_days(user=user, today=today)
    without_worker = selectors.housed_without_worker_count(user=user)
    participants = "participants:participant-list"
    return [
        QueueItem(
            key="referrals-waiting",
            order=20,
            title=gettext("Referrals waiting for a decision"),
            count=waiting["count"],
            explanation=gettext("Submitted or under assessment, not yet approved or declined."),
            detail=(
                ngettext(
                    "The oldest has waited %(days)s day.",
                    "The oldest has waited %(days)s days.",
                    oldest,
                )
                % {"days": oldest}
                if oldest is not None
                else ""
            ),
            url=_url("participants:referral-queue", status=selectors.WAITING_FOR_DECISION),
            link_text=gettext("Show the referrals waiting for a decision"),
        ),
        QueueItem(
            key="waiting-list",
            order=30,
            title=gettext("Approved, waiting for an apartment"),
            count=len(days),
            explanation=gettext("People approved for Housing First who have no home yet."),
            detail=(
                ngettext(
                    "Median wait since approval: %(days)s day.",
                    "Median wait since approval: %(days)s days.",
                    round(median(days)),
                )
                % {"days": round(median(days))}
                if days
                else ""
            ),
            url=_url(participants, status=ParticipantStatus.APPROVED),
            link_text=gettext("Show the waiting list"),
        ),
        QueueItem(
            key="no-support-worker",
            order=50,
            title=gettext("Tenants without a support worker"),
            count=without_worker,
            explanation=gettext("Housed tenants nobody in the team is assigned to support."),
            url=_url(participants, status=selectors.HOUSED_WITHOUT_WORKER),
            link_text=gettext("Show the tenants without a support worker"),
            alert=without_worker > 0,
        ),
    ]


def participants_queue(*, user, today) -> list[QueueItem]:
    """Social workers: their referrals' news; unit managers: the referrals to
    decide, the waiting list and the tenants nobody supports."""
    role = role_of(user)
    if role == Role.SOCIAL_WORKER:
        return _social_worker_items(user)
    if role == Role.UNIT_MANAGER:
        return _manager_items(user, today)
    return []
