"""The Celery wiring: eagerly in-process, and through a real worker on Redis."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu.exceptions import OperationalError

from bostadforst.celery import app
from bostadforst.logging import REPLACEMENT
from bostadforst.tasks import ping

from .redis_faults import REDIS_DOWN, celery_on_dead_redis, use_celery

# A valid personnummer from the personnummer project's shared test data
# (personnummer/meta testdata/list.json), in the formats a log line may carry.
PERSONNUMMER_FORMATS = ("19821105-9954", "198211059954", "821105-9954", "8211059954")


def test_ping_runs_in_process_without_a_broker(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert ping.delay().get(timeout=5) == "pong"


def test_ping_echoes_a_message(settings):
    assert ping.delay("deploy check").get(timeout=5) == "pong: deploy check"


@pytest.fixture
def redis_broker():
    """Celery pointed at TEST_REDIS_URL (not eager), with its cached connection
    pools and result backend dropped so that the new URLs take effect."""
    url = os.environ["TEST_REDIS_URL"]
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
    yield url
    use_celery(**old)


@pytest.mark.parametrize("kind", sorted(REDIS_DOWN))
def test_with_redis_down_sending_a_task_gives_up_within_five_seconds(kind):
    """Also a task whose result is kept: sending it subscribes to the result
    backend first, which by default reconnects 20 times a second apart
    (19 s with Redis refusing, 63 s with Redis frozen)."""
    with celery_on_dead_redis(kind):
        started = time.monotonic()
        # The result backend gives up with RuntimeError, the broker with
        # kombu's OperationalError.
        with pytest.raises((RuntimeError, OperationalError)):
            ping.delay()
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.1f} s"


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_ping_through_a_real_worker_on_redis(redis_broker):
    from celery.contrib.testing.worker import start_worker

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        assert ping.delay().get(timeout=20) == "pong"


def worker_database_url(tmp_path) -> str:
    """The test database for the worker process, where another process can reach it."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{user}@{db['HOST']}{port}/{db['NAME']}"
    # The in-memory SQLite test database is this process's only: the worker
    # gets an empty file (its start-up sweep of report orders logs a failure).
    return f"sqlite:///{tmp_path / 'worker.sqlite3'}"


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_real_worker_logs_personnummer_only_masked(redis_broker, transactional_db, tmp_path):
    """A worker started as in production (its own process, Celery's logging
    set-up) masks personnummer in the task's own log line and in Celery's
    "succeeded" line, which carries the task's result."""
    queue = f"bf-logtest-{uuid.uuid4().hex}"  # no other worker or leftover message
    env = {
        **os.environ,
        "REDIS_URL": redis_broker,
        "DATABASE_URL": worker_database_url(tmp_path),
        "LOG_LEVEL": "INFO",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "bostadforst", "worker"),
        *("-P", "solo", "--loglevel", "INFO", "-Q", queue, "-n", f"{queue}@%h"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    message = "check " + " / ".join(PERSONNUMMER_FORMATS)
    masked = "check " + " / ".join([REPLACEMENT] * len(PERSONNUMMER_FORMATS))
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=django_settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            result = ping.apply_async(args=[message], queue=queue)
            assert result.get(timeout=90) == f"pong: {message}"
        finally:
            # A warm shutdown: the "succeeded" line is written after the
            # result is stored, so it is in the file once the worker is gone.
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    output = log.read_text(errors="replace")
    assert f"ping: {masked}" in output, output[-3000:]  # the task's logger
    assert "succeeded in" in output and f"pong: {masked}" in output, output[-3000:]
    leaks = [pnr for pnr in PERSONNUMMER_FORMATS if pnr in output]
    assert not leaks, f"unmasked personnummer in the worker's output: {leaks}"
