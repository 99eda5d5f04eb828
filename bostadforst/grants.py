"""Granting roles from the command line (``manage.py grant_role``).

The administrator role and superuser status are granted here only: the admin
refuses both (``bostadforst.admin.UserAdmin``), since an administrator who
could grant them could make themselves, or someone else, able to read every
case record. Running a management command needs access to the server, which
fewer people have. Every grant and withdrawal keeps its reason (``RoleGrant``)
and writes an access-log row on the user, in the same transaction.
"""

import logging

from django.contrib.auth.models import Group
from django.db import transaction

from .access_log import access_log_entry
from .models import AccessLogEntry, RoleGrant, User
from .roles import Role, role_of

security_logger = logging.getLogger("bostadforst.security")


class GrantError(ValueError):
    """The grant was refused (no reason given); nothing was changed."""


@transaction.atomic
def user_role_grant(*, user: User, grant: str, granted: bool, reason: str, by: str) -> RoleGrant:
    """Give ``user`` (``granted``) or take away the role ``grant`` (a ``Role``
    value, or ``RoleGrant.SUPERUSER``), for ``reason``, as run by ``by``.

    Admin-site access (``is_staff``) follows: superusers and administrators
    have it, nobody else needs it.
    """
    reason = reason.strip()
    if not reason:
        raise GrantError("A reason is required.")
    if grant == RoleGrant.SUPERUSER:
        user.is_superuser = granted
    else:
        group = Group.objects.get(name=Role(grant).value)
        if granted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    user.__dict__.pop("_role_cache", None)
    user.is_staff = user.is_superuser or role_of(user) == Role.ADMINISTRATOR
    user.save(update_fields=["is_superuser", "is_staff"])
    record = RoleGrant.objects.create(
        user=user, username=user.get_username(), grant=grant, granted=granted, reason=reason, by=by
    )
    # The access log has no room for the reason (the RoleGrant row keeps it):
    # the row says who ran the command, and on which account.
    entry = access_log_entry(action=AccessLogEntry.Action.UPDATE, obj=user)
    entry.username = f"{by} (manage.py grant_role)"[:150]
    entry.save()
    security_logger.warning(
        "role %s %s user_id=%s by=%s grant_id=%s",
        "granted" if granted else "withdrawn",
        grant,
        user.pk,
        by,
        record.pk,
    )
    return record
