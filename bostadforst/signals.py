"""Signal receivers: each history row of a case model becomes an access-log row;
logins, failures, lockouts and logouts are logged; sessions end on logout,
deactivation and password change.

simple-history writes the history row in the same transaction as the change,
so the audit row commits (or rolls back) together with it.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate, pre_save
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record

from .access_log import client_ip, log_access
from .log_review import SUPERUSER_LOGIN
from .logging import scrub
from .models import AccessLogEntry, CaseModel, User
from .roles import ROLE_MODEL_PERMISSIONS
from .security import end_sessions, record_session

security_logger = logging.getLogger("bostadforst.security")

_ACTIONS = {
    "+": AccessLogEntry.Action.CREATE,
    "~": AccessLogEntry.Action.UPDATE,
    "-": AccessLogEntry.Action.DELETE,
}


@receiver(post_create_historical_record)
def log_case_change(sender, instance, history_instance, **kwargs) -> None:
    if not isinstance(instance, CaseModel):
        return
    request = getattr(HistoricalRecords.context, "request", None)
    log_access(
        action=_ACTIONS[history_instance.history_type],
        request=request,
        user=history_instance.history_user,
        obj=instance,
        person_id=instance.participant_pk(),
    )


@receiver(post_migrate)
def sync_role_permissions(sender, **kwargs) -> None:
    """Give each role group exactly the model permissions ``roles.py`` declares.

    Runs after every ``migrate`` (once per app; cheap and idempotent), so the
    declaration in ``ROLE_MODEL_PERMISSIONS`` is the single source of truth.
    """
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    for role, patterns in ROLE_MODEL_PERMISSIONS.items():
        group = Group.objects.using(using).filter(name=role.value).first()
        if group is None:
            continue
        wanted = []
        for pattern in patterns:
            app_label, codename = pattern.split(".", 1)
            perms = Permission.objects.using(using).filter(content_type__app_label=app_label)
            if codename != "*":
                perms = perms.filter(codename=codename)
            wanted.extend(perms)
        group.permissions.set(wanted)


# --- Login, logout and lockout ---------------------------------------------------
# Rows name the user, the time and the client IP; never a password, an OTP token
# or a personnummer (a username typed into the login form is scrubbed, since
# people do type their personnummer there).


# Django's own receiver moves ``last_login`` before any other receiver runs,
# so the previous value would be lost: this one replaces it (same
# dispatch_uid, so auth's ``ready()`` cannot connect it again) and keeps the
# login before in ``previous_login``, both in one UPDATE.
user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")


@receiver(user_logged_in, dispatch_uid="update_last_login")
def update_login_times(sender, user, **kwargs) -> None:
    user.previous_login = user.last_login
    user.last_login = timezone.now()
    user.save(update_fields=["previous_login", "last_login"])


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    if request is None:  # Client.force_login in tests and scripts
        return
    record_session(request, user)
    # A superuser's login says so on its row, as it was at the time: the log
    # review flags it even after the status has been withdrawn.
    log_access(
        action=AccessLogEntry.Action.LOGIN,
        request=request,
        user=user,
        model=SUPERUSER_LOGIN if user.is_superuser else "",
    )
    security_logger.info("login user_id=%s ip=%s", user.pk, client_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = scrub(str(credentials.get("username", "")))[:150]
    AccessLogEntry.objects.create(
        username=username,
        action=AccessLogEntry.Action.LOGIN_FAILED,
        view_name=_view_name(request),
        ip=client_ip(request),
    )
    security_logger.warning("login failed ip=%s", client_ip(request))


@receiver(user_locked_out)
def on_lockout(sender, request, username, ip_address, **kwargs) -> None:
    AccessLogEntry.objects.create(
        username=scrub(str(username or ""))[:150],
        action=AccessLogEntry.Action.LOCKOUT,
        view_name=_view_name(request),
        ip=client_ip(request) or ip_address,
    )
    security_logger.warning("lockout ip=%s", client_ip(request) or ip_address)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    """Logging out ends the user's sessions everywhere, not only in this browser."""
    if user is None:
        return
    if request is not None:
        log_access(action=AccessLogEntry.Action.LOGOUT, request=request, user=user)
    end_sessions(user)


@receiver(pre_save, sender=User)
def end_sessions_on_password_change_or_deactivation(sender, instance, **kwargs) -> None:
    """A new password or a deactivated account ends the user's sessions.

    A password change made in the user's own browser keeps that session:
    ``PasswordChangeView`` re-keys it after this runs, from the data in memory.
    """
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or kwargs.get("raw"):
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        end_sessions(instance)


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match else "")[:100]
