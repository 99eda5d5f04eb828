"""Roles from an identity provider's claims, shared by OpenID Connect
(``bostadforst.oidc``) and SAML (``bostadforst.saml*``) logins.

The provider is the source of truth for single sign-on users: at every login
their role is worked out again from the group/role claim (or SAML attribute)
and the user's role group is set to match. A user removed from the group at
the provider loses the role at their next login; a user with no mapped value
gets no role, and the login is refused by the caller.

Each change of role is kept like a command-line grant (``RoleGrant``, whose
history of the administrator role must stay complete) and written to the
access log on the user, in one transaction.
"""

import json
import logging
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from .roles import ROLE_PRECEDENCE, Role, role_of

security_logger = logging.getLogger("bostadforst.security")


def role_map(mapping: Mapping[str, str] | str | None = None) -> dict[str, Role]:
    """The claim value -> role mapping: ``mapping`` (a dict or a JSON object
    string) or, when None, ``settings.OIDC_ROLE_MAP``. Values that are not one
    of the four role codes raise ``ValueError`` (a configuration error)."""
    if mapping is None:
        mapping = getattr(settings, "OIDC_ROLE_MAP", None) or {}
    if isinstance(mapping, str):
        mapping = json.loads(mapping) if mapping.strip() else {}
    result = {}
    for claim_value, role in mapping.items():
        try:
            result[str(claim_value)] = Role(role)
        except ValueError:
            raise ValueError(f"Role map: {role!r} is not a role ({', '.join(Role)})") from None
    return result


def roles_from_claims(
    values: Iterable[str] | str | None, mapping: Mapping[str, str] | str | None = None
) -> Role | None:
    """The role that the claim ``values`` (a list of group ids/role names, or a
    single one) map to, the most privileged when several do; None when the
    claim is missing or none of its values is mapped."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    table = role_map(mapping)
    found = {table[str(v)] for v in values if str(v) in table}
    return next((r for r in ROLE_PRECEDENCE if r in found), None)


def _role_groups() -> dict[str, Group]:
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    missing = {r.value for r in Role} - set(groups)
    for name in missing:  # created by migration 0002; recreated if deleted
        groups[name] = Group.objects.create(name=name)
    return groups


@transaction.atomic
def sync_user_role(user, role: Role | None, *, source: str = "sso") -> bool:
    """Make ``role`` the user's only role group (None: no role group at all);
    other groups are left alone. Admin-site access follows, as for
    ``manage.py grant_role``. Returns True when anything changed; each change
    is kept as a ``RoleGrant`` (by ``source``) and an access-log row.

    Superuser status is never given or taken here: it belongs to the local
    fallback administrators and ``manage.py grant_role``.
    """
    from .access_log import access_log_entry
    from .models import AccessLogEntry, RoleGrant

    role = Role(role) if role else None
    groups = _role_groups()
    current = set(user.groups.filter(name__in=list(groups)).values_list("name", flat=True))
    wanted = {role.value} if role else set()
    removed, added = current - wanted, wanted - current
    if removed:
        user.groups.remove(*[groups[n] for n in removed])
    if added:
        user.groups.add(*[groups[n] for n in added])
    user.__dict__.pop("_role_cache", None)
    is_staff = user.is_superuser or role_of(user) == Role.ADMINISTRATOR
    staff_changed = user.pk is not None and user.is_staff != is_staff
    if staff_changed:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    if not (removed or added):
        return staff_changed
    reason = "Role from the identity provider at login"
    for name, granted in [*((n, False) for n in sorted(removed)), *((n, True) for n in added)]:
        record = RoleGrant.objects.create(
            user=user,
            username=user.get_username(),
            grant=name,
            granted=granted,
            reason=reason,
            by=source[:150],
        )
        security_logger.warning(
            "role %s %s user_id=%s by=%s grant_id=%s",
            "granted" if granted else "withdrawn",
            name,
            user.pk,
            source,
            record.pk,
        )
    entry = access_log_entry(action=AccessLogEntry.Action.UPDATE, obj=user)
    entry.username = f"{source} (role from identity provider)"[:150]
    entry.save()
    return True


# --- The provider's strong authentication as the second factor ---------------

SECOND_FACTOR_SESSION_KEY = "sso_second_factor"


def mark_second_factor(request) -> None:
    """Call right after the login (``auth.login``) when the provider vouched
    for the required strong authentication (OIDC ``acr``, SAML
    ``AuthnContextClassRef``): the TOTP step is then not asked for."""
    request.session[SECOND_FACTOR_SESSION_KEY] = True


def apply_second_factor(request) -> None:
    """Run by ``TwoFactorMiddleware`` on every request: a session marked by
    ``mark_second_factor`` counts as verified (``user.is_verified()``), for the
    middleware, the navigation and every other check alike."""
    session = getattr(request, "session", None)
    marked = session is not None and session.get(SECOND_FACTOR_SESSION_KEY) is True
    if marked and request.user.is_authenticated:
        request.user.is_verified = lambda: True
