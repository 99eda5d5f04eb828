"""Celery application. Tasks are autodiscovered in each app's ``tasks.py``;
workers and beat log through ``settings.LOGGING``, as the web process does.
``Heartbeat`` lets a long job show that its worker is still alive."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from celery import Celery, Task
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_ready,
)
from django.db import connections

from .request_id import (
    add_request_id_to_task_headers,
    reset_request_id_after_task,
    set_request_id_for_task,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bostadforst.settings")

logger = logging.getLogger(__name__)

app = Celery("bostadforst")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def configure_worker_logging(**kwargs) -> None:
    """Give workers and beat the logging of the web process: ``settings.LOGGING``.

    Without a receiver of this signal Celery sets logging up itself: it
    replaces the root handler (``worker_hijack_root_logger``) and gives the
    ``celery.task`` logger a handler of its own that does not propagate, both
    without the personnummer filter, so a task's log lines and Celery's
    "Task … succeeded in …: <result>" lines would print personnummer. With a
    receiver Celery configures nothing, and this applies the same
    configuration as ``django.setup()`` does. The level is ``LOG_LEVEL`` (as
    in the web process), not the worker's ``--loglevel``.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


# The request id of the web request that queued a task, on the task's log lines.
before_task_publish.connect(add_request_id_to_task_headers, weak=False)
task_prerun.connect(set_request_id_for_task, weak=False)
task_postrun.connect(reset_request_id_after_task, weak=False)


@worker_ready.connect
def heartbeat_on_start(**kwargs) -> None:
    """A worker that has just started counts as alive for /healthz before
    beat's first ``bostadforst.worker_heartbeat`` reaches it."""
    from .health import write_worker_heartbeat

    try:
        write_worker_heartbeat()
    except Exception:  # the cache away: /healthz says so itself
        logger.warning("worker heartbeat not written", exc_info=True)


def task_by_name(name: str) -> Task:
    """The registered task ``name``, for code that must not import its module.

    A service queues its app's tasks through this: the tasks module imports
    the service, so an import the other way would be a circle. Autodiscovery
    of the apps' ``tasks.py`` only runs by itself in a worker; the web process
    (and the in-process default without a broker) imports them here, once,
    when a task is first asked for.
    """
    if name not in app.tasks:
        app.autodiscover_tasks(force=True)
    return app.tasks[name]


class Heartbeat:
    """Call ``beat()`` every ``interval`` seconds from a thread while a block runs.

    For a job that spends minutes in one call (a WeasyPrint render) and so
    cannot beat between steps: the job's row records that its worker is
    alive, and a sweep re-sends a job whose heartbeat has gone stale (its
    worker was killed). Use as ``with Heartbeat(beat, interval=30) as hb:``.

    ``beat`` returns False when the job is no longer this run's (the sweep
    gave it to another worker): beating stops and ``lost`` turns True, for
    the job to check between its steps. A beat that raises (the database
    away for a moment) is logged and the next one tried; the sweep waits
    several intervals. The thread writes through its own database
    connection, so it sees only what the job has committed.

    The block's end stops the thread and waits for it, however the block
    ends, and the thread closes its database connections, so it never
    outlives the job; it is a daemon thread, so a worker can always exit.
    """

    def __init__(self, beat: Callable[[], bool], *, interval: float, name: str = "job") -> None:
        self._beat = beat
        self.interval = interval
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def lost(self) -> bool:
        """True once a beat found that the job is no longer this run's."""
        return self._lost.is_set()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    alive = self._beat()
                except Exception:
                    logger.warning(
                        "%s: heartbeat failed; next try in %ss",
                        self._thread.name,
                        self.interval,
                        exc_info=True,
                    )
                    continue
                if not alive:
                    self._lost.set()
                    return
        finally:
            connections.close_all()  # this thread's connections only
