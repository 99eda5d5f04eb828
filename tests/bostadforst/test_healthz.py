"""/healthz: database, cache (and broker) and a worker's heartbeat, as JSON
without personal data; 200 when all are up, 503 naming what is down."""

import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from bostadforst.health import HEARTBEAT_KEY, write_worker_heartbeat
from bostadforst.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db

REDIS_PORT = 6390


def redis_cache(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def redis_server():
    """A Redis of this test's own on port 6390; yields a function that stops it."""
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server")
    subprocess.run(
        ["redis-server", "--port", str(REDIS_PORT), "--daemonize", "yes", "--save", ""],
        check=True,
        capture_output=True,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)

    def stop():
        subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"],
            capture_output=True,
            check=False,
        )
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
                time.sleep(0.1)
            except OSError:
                return

    yield stop
    stop()


def test_all_up_without_redis_answers_200_with_tasks_in_process(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "worker": "in-process",
    }


def test_redis_and_a_recent_worker_heartbeat_answer_200(client, redis_server):
    with override_settings(CACHES=redis_cache(REDIS_PORT), CELERY_TASK_ALWAYS_EAGER=False):
        worker_heartbeat.run()  # what beat has a worker run every 30 seconds
        response = client.get(reverse("healthz"))
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["cache"] == "ok" and body["worker"] == "ok"
        assert 0 <= body["worker_heartbeat_age_seconds"] <= 5


def test_stopped_redis_answers_503_naming_the_cache(client, redis_server):
    with override_settings(CACHES=redis_cache(REDIS_PORT), CELERY_TASK_ALWAYS_EAGER=False):
        write_worker_heartbeat()
        redis_server()
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["cache"] == "unavailable"
    assert "6390" not in response.content.decode()  # no connection details


def test_a_stale_or_missing_worker_heartbeat_answers_503(client, redis_server):
    with override_settings(
        CACHES=redis_cache(REDIS_PORT), CELERY_TASK_ALWAYS_EAGER=False, WORKER_HEARTBEAT_MAX_AGE=60
    ):
        cache.delete(HEARTBEAT_KEY)
        response = client.get(reverse("healthz"))
        assert response.status_code == 503
        assert response.json()["worker"] == "no heartbeat"

        cache.set(HEARTBEAT_KEY, time.time() - 300)
        response = client.get(reverse("healthz"))
        assert response.status_code == 503
        assert response.json()["worker"] == "stale"
        assert response.json()["cache"] == "ok"


def test_a_database_that_does_not_answer_gives_503(client, monkeypatch):
    from bostadforst import health

    monkeypatch.setattr(health, "check_database", lambda: health.DOWN)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
