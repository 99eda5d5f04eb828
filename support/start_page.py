"""The support app's work-queue items on the start page
(``bostadforst.registry.start_page_queues``).

Support staff see their own caseload's queues; each count comes from the
same query as the "My participants" list its link opens (``caseload``), so
the list shows exactly the rows counted. Unit managers see the team's
overdue plan reviews. A fixed number of queries whatever the data.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of

from . import caseload, selectors

# The planned visits of today and this week have their own source
# (``planning.planned_visit_queue``), registered beside this one.


def _caseload_url(show: str) -> str:
    return f"{reverse('support:my-participants')}?show={show}"


def _support_staff_items(user, today) -> list[QueueItem]:
    counts = caseload.caseload_counts(user=user, today=today)
    days = caseload.contact_overdue_days()
    unsigned = caseload.unsigned_visits(user=user).count()
    return [
        QueueItem(
            key="no-contact",
            order=10,
            title=ngettext(
                "No contact for more than %(days)s day",
                "No contact for more than %(days)s days",
                days,
            )
            % {"days": days},
            count=counts[caseload.NO_CONTACT],
            explanation=ngettext(
                "People in your caseload (%(total)s person) without a visit or call "
                "in that time, or never.",
                "People in your caseload (%(total)s people) without a visit or call "
                "in that time, or never.",
                counts["total"],
            )
            % {"total": counts["total"]},
            detail=(
                ngettext(
                    "%(n)s of them has had no contact yet.",
                    "%(n)s of them have had no contact yet.",
                    counts["never"],
                )
                % {"n": counts["never"]}
                if counts["never"]
                else ""
            ),
            url=f"{_caseload_url(caseload.NO_CONTACT)}",
            link_text=gettext("Show the people you have not met lately"),
            alert=counts[caseload.NO_CONTACT] > 0,
        ),
        QueueItem(
            key="plan-reviews",
            order=20,
            title=gettext("Plan reviews due or overdue"),
            count=counts[caseload.REVIEW],
            explanation=gettext(
                "Your people whose action plan is to be reviewed within 14 days, is "
                "overdue, or who have no plan yet."
            ),
            detail=(
                ngettext(
                    "%(n)s overdue.",
                    "%(n)s overdue.",
                    counts["review_overdue"],
                )
                % {"n": counts["review_overdue"]}
                if counts["review_overdue"]
                else ""
            ),
            url=_caseload_url(caseload.REVIEW),
            link_text=gettext("Show the plans to review"),
            alert=counts["review_overdue"] > 0,
        ),
        QueueItem(
            key="open-incidents",
            order=30,
            title=gettext("Open tenancy incidents"),
            count=counts[caseload.INCIDENTS],
            explanation=gettext(
                "People in your caseload with a tenancy incident not yet resolved."
            ),
            detail=(
                ngettext(
                    "%(n)s open incident in all.",
                    "%(n)s open incidents in all.",
                    counts["incident_total"],
                )
                % {"n": counts["incident_total"]}
                if counts["incident_total"]
                else ""
            ),
            url=_caseload_url(caseload.INCIDENTS),
            link_text=gettext("Show the people with open incidents"),
        ),
        QueueItem(
            key="at-crisis-place",
            order=40,
            title=gettext("At a crisis place now"),
            count=counts[caseload.CRISIS],
            explanation=gettext("People in your caseload staying at a crisis place."),
            url=_caseload_url(caseload.CRISIS),
            link_text=gettext("Show your people at a crisis place"),
        ),
        QueueItem(
            key="unsigned-visits",
            order=50,
            title=gettext("Unsigned journal entries"),
            count=unsigned,
            explanation=gettext("Visits you logged more than 24 hours ago and have not signed."),
            url=_caseload_url("unsigned"),
            link_text=gettext("Show the entries to sign"),
            alert=unsigned > 0,
        ),
    ]


def _manager_items(user, today) -> list[QueueItem]:
    overdue = selectors.plan_reviews(user=user, today=today).filter(review_on__lt=today).count()
    return [
        QueueItem(
            key="overdue-reviews",
            order=60,
            title=gettext("Overdue plan reviews"),
            count=overdue,
            explanation=gettext("Action plans whose review date has passed, in the whole team."),
            url=f"{reverse('support:plan-review-list')}?status=overdue",
            link_text=gettext("Show the overdue reviews"),
            alert=overdue > 0,
        )
    ]


def support_queue(*, user, today=None) -> list[QueueItem]:
    """Support staff: their caseload's queues; unit managers: overdue reviews."""
    today = today or timezone.localdate()
    role = role_of(user)
    if role == Role.SUPPORT_STAFF:
        return _support_staff_items(user, today)
    if role == Role.UNIT_MANAGER:
        return _manager_items(user, today)
    return []
