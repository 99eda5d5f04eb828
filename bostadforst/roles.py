"""The four roles and what each may do: declared once, read everywhere.

A role is a Django group whose name is the role's code (created by the data
migration ``0002_create_role_groups``). ``ROLE_MODEL_PERMISSIONS`` lists the
Django model permissions each group holds, which only the admin site uses; the
app's own pages are governed by ``bostadforst.permissions.ACCESS_TABLE``.
"""

from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Social worker")
    SUPPORT_STAFF = "support_staff", _("Support staff")
    UNIT_MANAGER = "unit_manager", _("Unit manager")
    ADMINISTRATOR = "administrator", _("Administrator")


# When a user is in several groups, the most privileged role wins.
ROLE_PRECEDENCE = [Role.ADMINISTRATOR, Role.UNIT_MANAGER, Role.SUPPORT_STAFF, Role.SOCIAL_WORKER]

ALL_ROLES = frozenset(Role)
TEAM = frozenset({Role.SUPPORT_STAFF, Role.UNIT_MANAGER})
MANAGERS = frozenset({Role.UNIT_MANAGER})

# Model permissions per group, as "app_label.codename" patterns; "app_label.*"
# means every permission of that app. Administrators keep users and reference
# data; case data is edited through the app's services, where rules are checked,
# and the admin shows it to superusers only (bostadforst.admin_base), whatever
# is listed here. Administrators do not add two-factor devices: a device made
# by someone else has a secret they have seen. They delete a lost one and open
# the user's own setup (UserAdmin's action) instead.
ROLE_MODEL_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMINISTRATOR: [
        "bostadforst.add_user",
        "bostadforst.change_user",
        "bostadforst.view_user",
        "auth.view_group",
        "bostadforst.view_accesslogentry",
        "bostadforst.view_gallringrun",
        "bostadforst.view_rolegrant",
        "housing.add_landlord",
        "housing.change_landlord",
        "housing.view_landlord",
        "housing.add_apartment",
        "housing.change_apartment",
        "housing.view_apartment",
        "housing.add_provider",
        "housing.change_provider",
        "housing.view_provider",
        "participants.add_referringunit",
        "participants.change_referringunit",
        "participants.view_referringunit",
        "support.add_crisisplace",
        "support.change_crisisplace",
        "support.view_crisisplace",
        "fidelity.add_domain",
        "fidelity.change_domain",
        "fidelity.view_domain",
        "fidelity.add_item",
        "fidelity.change_item",
        "fidelity.view_item",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
    ],
    Role.UNIT_MANAGER: [],
    Role.SUPPORT_STAFF: [],
    Role.SOCIAL_WORKER: [],
}


def role_of(user) -> Role | None:
    """The user's role, or None for anonymous users and users without one."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_role_cache", False)
    if cached is not False:
        return cached
    if user.is_superuser:
        role = Role.ADMINISTRATOR
    else:
        names = set(user.groups.values_list("name", flat=True))
        role = next((r for r in ROLE_PRECEDENCE if r.value in names), None)
    user._role_cache = role
    return role


def roles_load(users) -> None:
    """Fill ``role_of``'s cache for ``users`` with one query, always issued
    (also for no users), so that a page showing many users' roles issues a
    number of queries that does not depend on how many there are."""
    from django.contrib.auth import get_user_model

    users = [u for u in users if getattr(u, "is_authenticated", False)]
    through = get_user_model().groups.through
    # [0] (no user has pk 0) keeps the IN list non-empty: Django skips the
    # query entirely for an empty one.
    ids = sorted({u.pk for u in users}) or [0]
    names: dict[int, set[str]] = {}
    for user_id, name in through.objects.filter(user_id__in=ids).values_list(
        "user_id", "group__name"
    ):
        names.setdefault(user_id, set()).add(name)
    for user in users:
        if user.is_superuser:
            user._role_cache = Role.ADMINISTRATOR
        else:
            mine = names.get(user.pk, set())
            user._role_cache = next((r for r in ROLE_PRECEDENCE if r.value in mine), None)


class NavEntry(NamedTuple):
    """A navigation entry: shown to ``roles`` when ``url_name`` exists; entries
    with a ``group`` are collected under that group's menu."""

    url_name: str
    label: str
    roles: frozenset
    group: str = ""


# Menus of the main navigation, in order. Entries without a group stand alone.
NAV_GROUPS: dict[str, str] = {
    "cases": _("Cases"),
    "support": _("Support"),
    "housing": _("Housing"),
    "follow_up": _("Follow-up"),
}

# Roles whose group menus are collected under one "More" menu, a heading per
# group: support staff's own entries (their caseload, logging and planning
# visits) are the daily work and stand alone; with four group menus beside
# them the bar did not fit at 1280 px.
NAV_MORE_ROLES: frozenset = frozenset({Role.SUPPORT_STAFF})
NAV_MORE_LABEL = _("More")

# An entry whose URL is not defined is left out; each app lists its own here.
NAVIGATION: list[NavEntry] = [
    NavEntry("home", _("Start"), ALL_ROLES),
    # participants
    NavEntry("participants:my-referrals", _("My referrals"), frozenset({Role.SOCIAL_WORKER})),
    NavEntry("participants:referral-create", _("New referral"), frozenset({Role.SOCIAL_WORKER})),
    NavEntry("participants:referral-queue", _("Referrals"), TEAM, "cases"),
    NavEntry("participants:participant-list", _("Participants"), TEAM, "cases"),
    # support
    NavEntry("support:my-participants", _("My participants"), frozenset({Role.SUPPORT_STAFF})),
    NavEntry("support:visit-quick-log", _("Log visit"), frozenset({Role.SUPPORT_STAFF})),
    NavEntry("support:planned-visit-list", _("Planned visits"), frozenset({Role.SUPPORT_STAFF})),
    NavEntry("support:plan-review-list", _("Plan reviews"), TEAM, "support"),
    NavEntry("support:crisis-place-list", _("Crisis places"), TEAM, "support"),
    NavEntry("support:activity-list", _("Meeting place"), TEAM, "support"),
    # housing
    NavEntry("housing:apartment-list", _("Apartments"), TEAM, "housing"),
    NavEntry("housing:eviction-risk-list", _("Eviction risk"), TEAM, "housing"),
    # reports
    NavEntry("reports:dashboard", _("Retention"), MANAGERS, "follow_up"),
    NavEntry("reports:report-list", _("Reports"), MANAGERS, "follow_up"),
    NavEntry("reports:cohort-import", _("Import cohort"), MANAGERS, "follow_up"),
    NavEntry("reports:research-export", _("Research export"), MANAGERS, "follow_up"),
    NavEntry("reports:homelessness-count", _("Homelessness count"), MANAGERS, "follow_up"),
    NavEntry("reports:data-quality", _("Data quality"), MANAGERS, "follow_up"),
    NavEntry("fidelity:assessment-list", _("Fidelity self-assessment"), TEAM, "follow_up"),
    # audit
    NavEntry("bostadforst:access-log", _("Access log"), MANAGERS, "follow_up"),
    NavEntry("admin:index", _("Administration"), frozenset({Role.ADMINISTRATOR})),
]
