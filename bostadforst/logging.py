"""A logging filter that keeps personnummer out of every log line."""

import json
import logging
import re

# Any Swedish personal identity or co-ordination number shape: 10 or 12 digits,
# optionally with -, + or a space before the last four.
PERSONNUMMER_RE = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+ ]?\d{4}(?!\d)")
REPLACEMENT = "[personnummer]"


def scrub(text: str) -> str:
    return PERSONNUMMER_RE.sub(REPLACEMENT, text)


class ScrubPersonalDataFilter(logging.Filter):
    """Replace personnummer-shaped numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = ()
        return True


class ScrubbingTextFormatter(logging.Formatter):
    """Text lines whose traceback is scrubbed too: the formatter adds it after
    the filter has run (an exception's message can hold a personnummer)."""

    def formatException(self, ei) -> str:
        return scrub(super().formatException(ei))

    def formatStack(self, stack_info) -> str:
        return scrub(super().formatStack(stack_info))


try:
    from pythonjsonlogger.json import JsonFormatter
except ImportError:  # python-json-logger < 3.1
    from pythonjsonlogger.jsonlogger import JsonFormatter


class ScrubbingJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id and any
    ``extra`` fields; every value but the request id is scrubbed (an ``extra``
    value or a traceback is not seen by the filter).

    Django's ``request`` extra (django.request, django.server) is left out: it
    is not JSON and its text holds the query string.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("json_ensure_ascii", False)
        kwargs.setdefault("json_default", str)
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        log_data = super().process_log_record(log_data)
        log_data.pop("request", None)
        log_data.pop("server_time", None)
        for key, value in list(log_data.items()):
            if key == "request_id" or value is None or isinstance(value, bool):
                continue
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if scrub(text) != text:
                log_data[key] = scrub(text)
        return log_data

    def formatException(self, ei) -> str:
        return scrub(super().formatException(ei))

    def formatStack(self, stack_info) -> str:
        return scrub(super().formatStack(stack_info))


def log_format(value: str | None, *, debug: bool) -> str:
    """The log format named by LOG_FORMAT ("json" or "text"), by default text
    when debugging and JSON lines otherwise: one rule for ``settings`` and
    ``gunicorn.conf.py``."""
    fmt = value or ("text" if debug else "json")
    if fmt not in ("json", "text"):
        raise ValueError("LOG_FORMAT must be json or text.")
    return fmt


def console_logging(fmt: str, *, stream: str | None = None) -> dict:
    """The filters, formatters and console handler every process logs
    through, in ``fmt`` ("json" or "text"): ``settings.LOGGING`` (Django,
    Celery workers and beat) and ``gunicorn.conf.py`` (Gunicorn's own lines)
    build their configuration from it, so the scrubbing and the request id
    are set up in one place."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": fmt,
        "filters": ["scrub_personal_data", "request_id"],
    }
    if stream:
        handler["stream"] = stream
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "scrub_personal_data": {"()": "bostadforst.logging.ScrubPersonalDataFilter"},
            "request_id": {"()": "bostadforst.request_id.RequestIdFilter"},
        },
        "formatters": {
            "text": {
                "()": "bostadforst.logging.ScrubbingTextFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
            "json": {
                "()": "bostadforst.logging.ScrubbingJsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            },
        },
        "handlers": {"console": handler},
    }
