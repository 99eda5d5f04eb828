"""Log lines as JSON with a request id that follows a request into the Celery
tasks it queues; personnummer scrubbed on every line."""

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from bostadforst.logging import PERSONNUMMER_RE, ScrubbingJsonFormatter, ScrubbingTextFormatter
from bostadforst.request_id import (
    HEADER,
    TASK_HEADER,
    RequestIdMiddleware,
    add_request_id_to_task_headers,
    current_request_id,
    request_id_var,
    reset_request_id_after_task,
    set_request_id_for_task,
)
from bostadforst.tasks import ping

PNR = "19811218-9876"


@pytest.fixture
def log_lines():
    """What the configured console handler (settings.LOGGING) writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    root.setLevel(level)
    handler.setStream(old)


def view_that_logs_and_queues(request):
    logging.getLogger("bostadforst.test").info("saving the person %s", PNR)
    ping.delay(f"for {PNR}")  # in-process here (no broker), logs "ping: ..."
    return HttpResponse("ok")


def test_a_view_and_the_task_it_queues_log_json_lines_with_the_same_request_id(log_lines):
    assert settings.LOG_FORMAT == "json"  # DEBUG is off in the tests
    request = RequestFactory().get("/")
    response = RequestIdMiddleware(view_that_logs_and_queues)(request)

    request_id = response[HEADER]
    lines = [json.loads(line) for line in log_lines()]
    view_line = next(r for r in lines if r["logger"] == "bostadforst.test")
    task_line = next(r for r in lines if r["message"].startswith("ping:"))
    assert view_line["request_id"] == task_line["request_id"] == request_id
    assert view_line["level"] == "INFO" and "time" in view_line
    assert PNR not in "\n".join(log_lines())
    assert view_line["message"] == "saving the person [personnummer]"
    assert current_request_id() == "-"  # reset after the request


def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(client):
    response = client.get(reverse("login"), headers={"X-Request-ID": "abc-123_x.y"})
    assert response[HEADER] == "abc-123_x.y"
    response = client.get(reverse("login"), headers={"X-Request-ID": "bad\nid " + PNR})
    assert response[HEADER] != "" and PNR not in response[HEADER] and "\n" not in response[HEADER]
    assert client.get(reverse("login"))[HEADER] != response[HEADER]


@pytest.mark.parametrize("digits", [PNR, PNR.replace("-", ""), PNR[2:]])
def test_a_request_id_shaped_like_a_personnummer_is_replaced(client, digits):
    # The JSON formatter leaves request_id unscrubbed (it is on every line), so
    # the middleware must never take a personnummer as the id.
    response = client.get(reverse("login"), headers={"X-Request-ID": f"req-{digits}"})
    assert digits not in response[HEADER]
    assert not PERSONNUMMER_RE.search(response[HEADER])


def test_the_request_id_travels_in_the_task_headers_to_the_worker():
    token = request_id_var.set("req-1")
    try:
        headers = {}
        add_request_id_to_task_headers(headers=headers)
        assert headers == {TASK_HEADER: "req-1"}
    finally:
        request_id_var.reset(token)

    # The worker: the message's header is the id for the task's run only.
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False, x_request_id="req-1"))
    set_request_id_for_task(task_id="t1", task=task)
    assert current_request_id() == "req-1"
    reset_request_id_after_task(task_id="t1")
    assert current_request_id() == "-"

    # A task beat sent has no request: it gets an id of its own.
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False, headers=None))
    set_request_id_for_task(task_id="t2", task=task)
    assert current_request_id() not in ("-", "req-1")
    reset_request_id_after_task(task_id="t2")


def record(message, *args, exc_info=None, **extra):
    rec = logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, exc_info)
    rec.__dict__.update(extra)
    rec.request_id = "r1"
    return rec


def test_extras_and_tracebacks_are_scrubbed_in_json_and_text():
    try:
        raise ValueError(f"no such person {PNR}")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    rec = record("failed", exc_info=exc_info, person=PNR, request=object(), status_code=500)
    line = ScrubbingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s").format(rec)
    data = json.loads(line)
    assert PNR not in line
    assert data["person"] == "[personnummer]" and data["status_code"] == 500
    assert "request" not in data and "[personnummer]" in data["exc_info"]

    text = ScrubbingTextFormatter("%(message)s [%(request_id)s]").format(rec)
    assert PNR not in text and "[r1]" in text


def test_log_format_text_in_debug(monkeypatch):
    import importlib

    import bostadforst.settings as settings_module

    monkeypatch.setenv("DJANGO_DEBUG", "true")
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.LOG_FORMAT == "text"
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == "text"
        assert reloaded.LOGGING["handlers"]["console"]["filters"] == [
            "scrub_personal_data",
            "request_id",
        ]
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_real_worker_logs_the_task_with_the_request_id_that_queued_it(transactional_db, tmp_path):
    """Through Redis: the id goes in the message's headers (before_task_publish)
    and the worker's JSON line of the task carries it (task_prerun)."""
    from .redis_faults import use_celery
    from .test_celery import worker_database_url

    url = os.environ["TEST_REDIS_URL"]
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
    queue = f"bf-ridtest-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "REDIS_URL": url,
        "DATABASE_URL": worker_database_url(tmp_path),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "bostadforst", "worker"),
        *("-P", "solo", "--loglevel", "INFO", "-Q", queue, "-n", f"{queue}@%h"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    log = tmp_path / "worker.log"
    token = request_id_var.set("web-request-42")
    try:
        with log.open("wb") as out:
            worker = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                result = ping.apply_async(args=["traced"], queue=queue)
                assert result.get(timeout=90) == "pong: traced"
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    finally:
        request_id_var.reset(token)
        use_celery(**old)
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    task_lines = [r for r in lines if r.get("message") == "ping: traced"]
    assert task_lines, log.read_text()[-3000:]
    assert task_lines[0]["request_id"] == "web-request-42"
