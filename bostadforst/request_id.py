"""A request id on every log line of a request, and of the tasks it queues.

``RequestIdMiddleware`` takes the ``X-Request-ID`` a reverse proxy sent (when
it is a plain token: letters, digits, ``.``, ``_``, ``-``; up to 64 characters,
and holds nothing shaped like a personnummer, so a client cannot put line
breaks or personal data into every log line; the log's scrubbing leaves the
id alone) or
makes one, keeps it in a context variable for the request and returns it in
the response's ``X-Request-ID`` header. ``RequestIdFilter`` (on every log
handler, settings.LOGGING) puts it on each record as ``request_id``.

Celery: ``before_task_publish`` adds the id to the task message's headers and
``task_prerun`` sets it in the worker for the task's run (bostadforst.celery
connects them). A task run in-process (no broker) simply inherits the
caller's context.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets

from bostadforst.logging import PERSONNUMMER_RE

HEADER = "X-Request-ID"
TASK_HEADER = "x_request_id"
NO_REQUEST = "-"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=NO_REQUEST
)

_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def new_request_id() -> str:
    # Not uuid4().hex: a run of ten hex digits that are all decimal would look
    # like a personnummer to anyone scanning the logs.
    return secrets.token_urlsafe(16)


def clean_request_id(value: str | None) -> str | None:
    """``value`` when it is a plain token with no personnummer in it, else None
    (a new id is made)."""
    if value and _VALID.fullmatch(value) and not PERSONNUMMER_RE.search(value):
        return value
    return None


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every later log line carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# --- Celery ----------------------------------------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def add_request_id_to_task_headers(headers=None, **kwargs) -> None:
    """``before_task_publish``: the publishing request's id into the message."""
    request_id = request_id_var.get()
    if headers is not None and request_id != NO_REQUEST:
        headers.setdefault(TASK_HEADER, request_id)


def set_request_id_for_task(task_id=None, task=None, **kwargs) -> None:
    """``task_prerun``: the id the message carries, for the task's run.

    A task run in-process (eager) keeps its caller's id; a worker's task
    without one (sent by beat) gets an id of its own, so its lines can still
    be told apart from the previous task's.
    """
    if task is None or getattr(task.request, "is_eager", False):
        return
    request_id = clean_request_id(getattr(task.request, TASK_HEADER, None))
    if request_id is None:
        headers = getattr(task.request, "headers", None) or {}
        request_id = clean_request_id(headers.get(TASK_HEADER)) or new_request_id()
    _task_tokens[task_id] = request_id_var.set(request_id)


def reset_request_id_after_task(task_id=None, **kwargs) -> None:
    """``task_postrun``: back to the worker's "no request"."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (thread pool): just clear it
            request_id_var.set(NO_REQUEST)
