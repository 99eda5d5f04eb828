"""The optional error reporter: Sentry (or a Sentry-compatible service such as
GlitchTip), on only when ``SENTRY_DSN`` is set (settings.py calls ``init``).

An event leaves the process stripped of personal data. Two layers, because
either alone has gaps:

1. The SDK is told to collect nothing personal (``DATA_COLLECTION``: no user
   identity, cookies, headers, request bodies, query strings, SQL parameters,
   queue message bodies or stack-frame variables). sentry-sdk 3 collects all
   of these by default, so every category is named.
2. ``before_send`` and ``before_breadcrumb`` then go through whatever is left,
   whichever integration put it there: the request keeps only its method and
   its URL without query string or fragment, the user only the id, and every
   string anywhere in the event (messages, exception values, breadcrumbs,
   frame variables, tags, extra data such as a Celery task's arguments) goes
   through the personnummer scrubbing of the log lines
   (bostadforst.logging.scrub). Spans (performance data, off unless
   ``SENTRY_TRACES_SAMPLE_RATE`` is above 0) are scrubbed likewise.

The log's request id is added as a tag, so an event can be found in the logs.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bostadforst.logging import scrub
from bostadforst.request_id import NO_REQUEST, current_request_id

DATA_COLLECTION: dict[str, Any] = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "off"}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "mcp": {"inputs": False, "outputs": False},
}

# What is kept of an event's "request" and "user" (everything else is dropped).
REQUEST_KEEPS = ("method", "url")
USER_KEEPS = ("id",)


def init(*, dsn: str, environment: str, traces_sample_rate: float, release: str = "") -> None:
    """Start the SDK for this process (web, Celery worker or beat)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        data_collection=DATA_COLLECTION,
        max_request_body_size="never",
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            # Log lines from INFO up as breadcrumbs of the next event, a line
            # at ERROR (a failed job the code caught and logged) as an event;
            # log records themselves are not shipped (the logs go to the log
            # collector, README "Drift").
            LoggingIntegration(
                level=None, event_level=logging.ERROR, breadcrumb_level=logging.INFO
            ),
        ],
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        # Performance data (with SENTRY_TRACES_SAMPLE_RATE above 0) and log
        # records, should they be turned on: scrubbed the same way.
        before_send_span=scrub_telemetry,
        before_send_log=scrub_telemetry,
    )


# The SDK's own random hex ids: a run of ten decimal digits in one is chance,
# and "scrubbing" it would break the event.
SDK_IDS = frozenset(
    ("event_id", "trace_id", "span_id", "parent_span_id", "segment_id", "profile_id")
)


def scrub_value(value: Any) -> Any:
    """``value`` with every string in it (keys too) scrubbed of personnummer."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): v if k in SDK_IDS else scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Strip an error event (or a transaction) of personal data before it is sent."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {k: request[k] for k in REQUEST_KEEPS if k in request}
        if "url" in event["request"]:
            event["request"]["url"] = without_query(str(event["request"]["url"]))
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {k: user[k] for k in USER_KEEPS if k in user}
    # Stack-frame variables are not collected (DATA_COLLECTION); should an
    # integration add them anyway, they go rather than be scrubbed piecemeal.
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    request_id = current_request_id()
    if request_id != NO_REQUEST:
        event.setdefault("tags", {})["request_id"] = request_id
    return scrub_value(event)


def scrub_telemetry(item: dict, hint: dict | None = None) -> dict:
    """A span or a log record: its name, body and attributes scrubbed."""
    return scrub_value(item)


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """Breadcrumbs (log lines, SQL, outgoing HTTP) scrubbed the same way;
    an outgoing request's URL loses its query string."""
    data = crumb.get("data")
    if isinstance(data, dict):
        data.pop("http.query", None)
        data.pop("http.fragment", None)
        if isinstance(data.get("url"), str):
            data["url"] = without_query(data["url"])
    return scrub_value(crumb)
