"""The Celery wiring: eagerly in-process, and through a real worker on Redis."""

import os

import pytest

from bostadforst.celery import app
from bostadforst.tasks import ping


def test_ping_runs_in_process_without_a_broker(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert ping.delay().get(timeout=5) == "pong"


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_ping_through_a_real_worker_on_redis():
    from celery.contrib.testing.worker import start_worker

    url = os.environ["TEST_REDIS_URL"]
    old = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            assert ping.delay().get(timeout=20) == "pong"
    finally:
        app.conf.update(old)
