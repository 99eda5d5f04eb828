"""The bostadforst app's work-queue items on the start page
(``registry.start_page_queues``): the administrator's account problems and
the unit manager's access-log flags.

The administrator's counts use the same rules as the admin lists their links
open (``AccountAttentionFilter`` on the user list, axes' own "locked out"
filter), so each list shows exactly the rows counted. Every item is a fixed
number of queries whatever the number of users or log rows.
"""

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from .log_review import flag_unusual
from .models import AccessLogEntry, User
from .registry import QueueItem
from .roles import Role, role_of
from .security import PRIVILEGED_ROLES

# The user list's filter values (``AccountAttentionFilter``).
NO_ROLE = "no_role"
NO_TWO_FACTOR = "no_two_factor"
# How many of the latest log rows since the last review the start page
# checks for flags: the review itself pages through the rest.
FLAG_WINDOW = 500


def _in_groups(names) -> Exists:
    through = User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=names)
    return Exists(through)


def users_without_role(queryset: QuerySet[User]) -> QuerySet[User]:
    """Active accounts that have no role (``roles.role_of`` is None): no role
    group and not superusers."""
    return queryset.filter(is_active=True, is_superuser=False).exclude(
        _in_groups([role.value for role in Role])
    )


def users_missing_two_factor(queryset: QuerySet[User]) -> QuerySet[User]:
    """Active accounts that must pass a second factor (``security.otp_required``)
    and have no confirmed authenticator app; none when nobody must."""
    if settings.OTP_REQUIRED_FOR_ALL:
        required = queryset.filter(is_active=True)
    elif settings.OTP_REQUIRED_FOR_PRIVILEGED:
        required = queryset.filter(
            Q(is_staff=True)
            | Q(is_superuser=True)
            | Q(_in_groups([role.value for role in PRIVILEGED_ROLES])),
            is_active=True,
        )
    else:
        return queryset.none()
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return required.exclude(Exists(confirmed))


def two_factor_required_anywhere() -> bool:
    return bool(settings.OTP_REQUIRED_FOR_ALL or settings.OTP_REQUIRED_FOR_PRIVILEGED)


def _admin_items() -> list[QueueItem]:
    users = reverse("admin:bostadforst_user_changelist")
    no_role = users_without_role(User.objects.all()).count()
    locked = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).count()
    items = [
        QueueItem(
            key="users-no-role",
            order=10,
            title=gettext("Users with no role"),
            count=no_role,
            explanation=gettext(
                "Active accounts that can log in but reach nothing until given a role."
            ),
            url=f"{users}?attention={NO_ROLE}",
            link_text=gettext("Show the users with no role"),
            alert=no_role > 0,
        ),
        QueueItem(
            key="locked-accounts",
            order=20,
            title=gettext("Locked login attempts"),
            count=locked,
            explanation=ngettext(
                "Usernames and addresses locked out after %(n)s failed logins.",
                "Usernames and addresses locked out after %(n)s failed logins.",
                settings.AXES_FAILURE_LIMIT,
            )
            % {"n": settings.AXES_FAILURE_LIMIT},
            url=f"{reverse('admin:axes_accessattempt_changelist')}?locked_out=yes",
            link_text=gettext("Show the lockouts"),
            alert=locked > 0,
        ),
    ]
    if two_factor_required_anywhere():
        missing = users_missing_two_factor(User.objects.all()).count()
        items.append(
            QueueItem(
                key="users-no-two-factor",
                order=30,
                title=gettext("Two-factor login not set up"),
                count=missing,
                explanation=gettext(
                    "Accounts that must use an authenticator app and have none confirmed."
                ),
                url=f"{users}?attention={NO_TWO_FACTOR}",
                link_text=gettext("Show the users without two-factor login"),
                alert=missing > 0,
            )
        )
    return items


def last_review(user):
    """When ``user`` last opened the access-log review (its read is logged),
    or None."""
    return (
        AccessLogEntry.objects.filter(
            user=user, action=AccessLogEntry.Action.READ, model=AccessLogEntry._meta.label
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def _manager_items(user, today) -> list[QueueItem]:
    since = last_review(user) or timezone.now() - timedelta(days=30)
    entries = list(
        AccessLogEntry.objects.filter(at__gt=since)
        .select_related("user")
        .order_by("-at", "-pk")[:FLAG_WINDOW]
    )
    flagged = sum(1 for reasons in flag_unusual(entries).values() if reasons)
    day = timezone.localtime(since).date()
    return [
        QueueItem(
            key="access-log-flags",
            order=70,
            title=gettext("Access-log flags since your last review"),
            count=flagged,
            explanation=gettext(
                "Unusual access (outside the own caseload, many people in a short time, "
                "protected identity, superuser logins) logged since you last opened the log."
            ),
            detail=(
                gettext("Only the latest %(n)s entries are checked here.") % {"n": FLAG_WINDOW}
                if len(entries) == FLAG_WINDOW
                else gettext("Since %(when)s.")
                % {"when": timezone.localtime(since).strftime("%Y-%m-%d %H:%M")}
            ),
            url=f"{reverse('bostadforst:access-log')}?date_from={day.isoformat()}",
            link_text=gettext("Review the access log"),
            alert=flagged > 0,
        )
    ]


def bostadforst_queue(*, user, today) -> list[QueueItem]:
    role = role_of(user)
    if role == Role.ADMINISTRATOR:
        return _admin_items()
    if role == Role.UNIT_MANAGER:
        return _manager_items(user, today)
    return []
