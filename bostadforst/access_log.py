"""Writing one access-log row. Views never call this: reads and denials go
through ``bostadforst.records`` (the read path), changes through the history
signal (the write path), logins and exports through their own receivers."""

import functools
import ipaddress

from django.conf import settings
from django.db import models

from .models import AccessLogEntry
from .roles import role_of


def client_ip(request) -> str | None:
    """The client's address, for the access log and for django-axes' lockout
    (``AXES_CLIENT_IP_CALLABLE``), so both always name the same address.

    Without a proxy it is REMOTE_ADDR. Behind the reverse proxy
    (``TRUSTED_PROXY_COUNT`` > 0) it is the entry of ``X-Forwarded-For`` that
    the trusted proxy appended (counted from the right): the entries to its
    left come from the client and can be anything, so trusting the leftmost one
    would let an attacker pick a new "IP" for every password guess.

    Headers alone cannot tell a request that came through the proxy from one
    that reached the app directly with a forged ``X-Forwarded-For``. With
    ``TRUSTED_PROXY_IPS`` set, the header is believed only on a connection
    from one of those addresses; any other connection is its own client.
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    candidate = meta.get("REMOTE_ADDR") or ""
    if count and _from_trusted_proxy(candidate):
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= count:  # else the request did not come through the proxy
            candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _from_trusted_proxy(remote_addr: str) -> bool:
    """Whether the connection comes from a proxy in ``TRUSTED_PROXY_IPS``
    (always, when that setting is empty)."""
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXY_IPS", ())))
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in networks)


@functools.cache
def _networks(values: tuple[str, ...]) -> tuple:
    # Cached per distinct setting value: parsed once, yet a test that
    # overrides the setting gets its own networks.
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def log_access(**fields) -> AccessLogEntry:
    """Append one row to the access log (the arguments of ``access_log_entry``)."""
    entry = access_log_entry(**fields)
    entry.save()
    return entry


def access_log_entry(
    *,
    action: str,
    request=None,
    user=None,
    obj: models.Model | None = None,
    person_id: int | None = None,
    model: str = "",
) -> AccessLogEntry:
    """One unsaved access-log row (several can then be written in one INSERT).
    ``user`` defaults to the request's user."""
    if user is None and request is not None:
        user = request.user
    authenticated = getattr(user, "is_authenticated", False)
    if obj is not None:
        model = model or obj._meta.label
        if person_id is None and hasattr(obj, "participant_pk"):
            person_id = obj.participant_pk()
    role = role_of(user) if authenticated else None
    match = getattr(request, "resolver_match", None)
    return AccessLogEntry(
        user=user if authenticated else None,
        username=(user.get_username() if authenticated else ""),
        role=role or "",
        action=action,
        model=model,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        person_id=person_id,
        view_name=(match.view_name if match else "")[:100],
        ip=client_ip(request),
    )


def log_denied(request, *, model: str = "", person_id: int | None = None) -> AccessLogEntry:
    """Record a refused attempt to reach a page or a record."""
    return log_access(
        action=AccessLogEntry.Action.DENIED, request=request, model=model, person_id=person_id
    )
