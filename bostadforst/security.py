"""Login policy: who needs a second factor, and ending a user's sessions."""

import logging
import time
from importlib import import_module

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from .models import UserSession
from .roles import Role, role_of

logger = logging.getLogger("bostadforst.security")

PRIVILEGED_ROLES = frozenset({Role.ADMINISTRATOR, Role.UNIT_MANAGER})


def otp_required(user) -> bool:
    """Whether ``user`` must pass a TOTP step after the password.

    Administrators and unit managers (the roles that reach the admin site and
    the whole caseload) with ``OTP_REQUIRED_FOR_PRIVILEGED``; everyone with
    ``OTP_REQUIRED_FOR_ALL``. Staff accounts count as privileged whatever
    their group, since they reach the admin site.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if settings.OTP_REQUIRED_FOR_ALL:
        return True
    if not settings.OTP_REQUIRED_FOR_PRIVILEGED:
        return False
    return user.is_staff or user.is_superuser or role_of(user) in PRIVILEGED_ROLES


def safe_next(request, candidate: str | None, default: str) -> str:
    """``candidate`` when it is a path on this site, else ``default``.

    Refuses other hosts (``https://evil.example``), scheme-relative URLs
    (``//evil.example``), backslash tricks and other schemes (``javascript:``).
    """
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def record_session(request, user, *, new_login: bool = True) -> None:
    """Remember the session's key (called right after login or a password
    change cycled it). The absolute limit counts from the login itself."""
    now = int(time.time())
    if new_login or "login_at" not in request.session:
        request.session["login_at"] = now
    request.session["last_activity"] = now
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.get_or_create(user=user, session_key=request.session.session_key)


def end_sessions(user, *, keep: str | None = None) -> int:
    """End every recorded session of ``user`` except the one keyed ``keep``."""
    store = _session_store()
    ended = 0
    rows = UserSession.objects.filter(user=user)
    if keep:
        rows = rows.exclude(session_key=keep)
    for key in list(rows.values_list("session_key", flat=True)):
        store(session_key=key).delete()
        ended += 1
    rows.delete()
    return ended
