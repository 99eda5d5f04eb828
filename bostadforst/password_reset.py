"""Self-service password reset by e-mail: whether it is on, the rate limits,
and the mail itself. The pages are Django's own (``bostadforst.auth_views``).

The answer to a request never says whether an account has the address: a
known address, an unknown one and a throttled one all get the same page. The
mail is made and sent by a task, so with a broker the answer does not wait for
the mail server and its timing does not tell either (the embedded default
runs tasks in-process).
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .celery import task_by_name

logger = logging.getLogger("bostadforst.security")

SEND_TASK = "bostadforst.send_password_reset"
SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"
EMAIL_TEMPLATE = "registration/password_reset_email.txt"


def password_reset_enabled() -> bool:
    """On when configured (``PASSWORD_RESET_ENABLED``), never with single sign-on."""
    return settings.PASSWORD_RESET_ENABLED and not getattr(settings, "SSO_ENABLED", False)


def rate_limit_exceeded(*, key: str, limit: int, window: int) -> bool:
    """Count one more request under ``key``; True once more than ``limit``
    arrived within ``window`` seconds of the first (a fixed window).

    The cache is shared by the web processes when REDIS_URL is set, so the
    limit holds across them; with the local-memory default it is per process.
    """
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _address_key(email: str) -> str:
    # Hashed: the cache never holds the address typed.
    digest = hashlib.sha256(email.strip().casefold().encode()).hexdigest()
    return f"password-reset:address:{digest}"


def password_reset_request(*, email: str, ip: str | None, domain: str, use_https: bool) -> None:
    """Queue a reset mail to every active account with ``email`` and a usable
    password (Django's ``PasswordResetForm.get_users``), unless the address or
    the IP has asked too often. Returns nothing, so that no caller can tell a
    known address from an unknown or throttled one.
    """
    window = settings.PASSWORD_RESET_LIMIT_WINDOW
    # Both counted on every request, known address or not: a limit counted
    # only for known addresses would itself tell which ones exist.
    by_address = rate_limit_exceeded(
        key=_address_key(email), limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS, window=window
    )
    by_ip = rate_limit_exceeded(
        key=f"password-reset:ip:{ip or 'unknown'}",
        limit=settings.PASSWORD_RESET_LIMIT_PER_IP,
        window=window,
    )
    if by_address or by_ip:
        logger.warning(
            "password reset throttled ip=%s by=%s", ip, "address" if by_address else "ip"
        )
        return
    user_ids = [user.pk for user in PasswordResetForm().get_users(email)]
    logger.info("password reset requested ip=%s", ip)
    for user_id in user_ids:
        transaction.on_commit(
            lambda user_id=user_id: _send(user_id=user_id, domain=domain, use_https=use_https)
        )


def _send(*, user_id: int, domain: str, use_https: bool) -> None:
    """Hand the mail to the broker. Never raises: with the broker down the
    request is lost and the user asks again (nothing else depends on it)."""
    try:
        task_by_name(SEND_TASK).apply_async(args=[user_id, domain, use_https], retry=False)
    except Exception:  # kombu raises many kinds (OperationalError, OSError …)
        logger.warning("password reset mail for user_id=%s not queued", user_id, exc_info=True)


def password_reset_mail_send(*, user_id: int, domain: str, use_https: bool) -> bool:
    """Send the reset mail to ``user_id`` (the task's body); False when the
    account can no longer reset (gone, deactivated, no usable password).

    The link's token is made here, not in the request, so that it never passes
    through the broker. The mail names no person and no username: only the
    link, how long it is good, and that a second factor is still needed.
    """
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    email = getattr(user, user.get_email_field_name())
    context = {
        "protocol": "https" if use_https else "http",
        "domain": domain,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        "municipality_name": settings.MUNICIPALITY_NAME,
    }
    with translation.override(settings.LANGUAGE_CODE):
        PasswordResetForm().send_mail(
            SUBJECT_TEMPLATE, EMAIL_TEMPLATE, context, settings.DEFAULT_FROM_EMAIL, email
        )
    logger.info("password reset mail sent user_id=%s", user_id)
    return True
