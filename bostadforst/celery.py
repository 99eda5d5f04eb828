"""Celery application. Tasks are autodiscovered in each app's ``tasks.py``;
workers and beat log through ``settings.LOGGING``, as the web process does."""

import os

from celery import Celery, Task
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bostadforst.settings")

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
