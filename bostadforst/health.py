"""What ``/healthz`` checks: the database, the cache (Redis, which is also
Celery's broker when ``REDIS_URL`` is set) and whether a Celery worker ran a
task recently.

A worker proves it is alive by writing a timestamp into the cache: when it
starts (``worker_ready``, bostadforst.celery) and every
``WORKER_HEARTBEAT_INTERVAL`` seconds through beat (``bostadforst.worker_heartbeat``),
so a stale heartbeat means that the worker, beat or the broker between them is
down. Without ``REDIS_URL`` tasks run in the web process (no worker to check).

The answer names checks and states only: no personal data, no host names, no
exception text (which could carry a connection URL with a password).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "bostadforst:worker_heartbeat"
OK = "ok"
DOWN = "unavailable"


def write_worker_heartbeat() -> None:
    # Kept for a day, so that a stopped worker reads as "stale", not "never".
    cache.set(HEARTBEAT_KEY, time.time(), timeout=24 * 3600)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: the database does not answer", exc_info=True)
        return DOWN
    return OK


def check_cache() -> str:
    try:
        cache.set("bostadforst:healthz", "1", timeout=10)
        if cache.get("bostadforst:healthz") != "1":
            return DOWN
    except Exception:
        logger.warning("healthz: the cache does not answer", exc_info=True)
        return DOWN
    return OK


def check_worker(cache_state: str) -> tuple[str, int | None]:
    """The worker's state and the seconds since its last heartbeat."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process", None
    if cache_state != OK:
        return "unknown", None
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:
        return "unknown", None
    if beat is None:
        return "no heartbeat", None
    age = max(0, int(time.time() - float(beat)))
    return (OK if age <= settings.WORKER_HEARTBEAT_MAX_AGE else "stale"), age


def health() -> tuple[bool, dict]:
    """(all up, the JSON body of /healthz)."""
    database = check_database()
    cache_state = check_cache()
    worker, age = check_worker(cache_state)
    body: dict = {"database": database, "cache": cache_state, "worker": worker}
    if age is not None:
        body["worker_heartbeat_age_seconds"] = age
    up = database == OK and cache_state == OK and worker in (OK, "in-process")
    return up, {"status": "ok" if up else "error", **body}
