"""The optional error reporter (bostadforst/error_reporting.py): off without
SENTRY_DSN; with it, events reach the service with no personal data.

The service is a real HTTP peer on loopback that takes the SDK's envelopes
as Sentry's ingest endpoint does (POST /api/<project>/envelope/)."""

import gzip
import io
import json
import logging
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sentry_sdk
from celery import shared_task
from django.http import HttpResponse
from django.urls import include, path

from bostadforst import error_reporting
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
global_settings_urlconf = "bostadforst.urls"

# A valid personnummer from the personnummer project's shared test data
# (personnummer/meta testdata/list.json), in each format it may be written in.
PERSONNUMMER = {
    "separated_long": "19901211-9948",
    "long": "199012119948",
    "separated": "901211-9948",
    "short": "9012119948",
}


def leaks(text: str) -> list[str]:
    return [fmt for fmt, number in PERSONNUMMER.items() if number in text]


# --- A Sentry ingest endpoint on loopback ---------------------------------------


class Ingest(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        type(self).received.append(
            {"path": self.path, "auth": self.headers.get("X-Sentry-Auth", ""), "body": body}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Ingest.received = []
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def reporter(ingest, settings):
    """The SDK started as settings.py starts it, towards the loopback peer;
    closed afterwards and the process's earlier (inactive) client put back."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "bostadforst.middleware.PermissionTableMiddleware"
    ]
    settings.ROOT_URLCONF = __name__
    scope = sentry_sdk.get_global_scope()
    before = scope.client
    error_reporting.init(
        dsn=f"http://publickey@127.0.0.1:{ingest.server_port}/1",
        environment="test",
        traces_sample_rate=0.0,
    )
    yield ingest
    sentry_sdk.get_client().close(timeout=5)
    scope.set_client(before)


def envelopes(timeout: float = 5) -> list[dict]:
    """The events the peer received: each envelope's items, parsed."""
    sentry_sdk.flush(timeout=timeout)
    events = []
    for request in Ingest.received:
        assert request["path"] == "/api/1/envelope/"
        lines = request["body"].split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            item = json.loads(header)
            if item.get("type") in ("event", "transaction"):
                events.append(json.loads(payload))
    return events


def raw_received() -> str:
    return "\n".join(r["body"].decode("utf-8", "replace") for r in Ingest.received)


# --- A view and a task that fail with a personnummer in hand ---------------------

logger = logging.getLogger("bostadforst.tests.error_reporting")


def failing_view(request):
    personnummer = request.POST.get("personnummer", "")  # a frame variable
    logger.warning("looking up %s", personnummer)  # a breadcrumb
    raise ValueError(f"no participant with personnummer {personnummer}")


def healthy_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("sok/", failing_view, name="error-reporting-failing"),
    path("ok/", healthy_view, name="error-reporting-healthy"),
    path("", include(global_settings_urlconf)),  # the middleware reverses the app's URLs
]


@shared_task(name="tests.error_reporting.failing_task")
def failing_task(note: str) -> None:
    raise RuntimeError(f"task failed for {note}")


# --- Tests --------------------------------------------------------------------------


def test_the_reporter_is_off_without_a_dsn(settings):
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


def settings_in_a_process(environment: dict) -> subprocess.CompletedProcess:
    script = (
        "import django, json, sentry_sdk; django.setup();"
        "client = sentry_sdk.get_client();"
        "print(json.dumps({'active': client.is_active(), 'dsn': client.options.get('dsn'),"
        " 'environment': client.options.get('environment'),"
        " 'traces': client.options.get('traces_sample_rate'),"
        " 'integrations': sorted(client.integrations),"
        " 'user_info': client.options['data_collection']['user_info'],"
        " 'frame_vars': client.options['data_collection']['stack_frame_variables']}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bostadforst.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        **environment,
    }
    env.pop("SENTRY_DSN", None) if "SENTRY_DSN" not in environment else None
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_start_the_reporter_with_django_and_celery_when_a_dsn_is_set():
    off = settings_in_a_process({})
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout.splitlines()[-1])["active"] is False

    on = settings_in_a_process(
        {
            "SENTRY_DSN": "http://publickey@127.0.0.1:9/1",
            "SENTRY_ENVIRONMENT": "staging",
            "SENTRY_TRACES_SAMPLE_RATE": "0.25",
        }
    )
    assert on.returncode == 0, on.stderr
    state = json.loads(on.stdout.splitlines()[-1])
    assert state["active"] is True
    assert state["environment"] == "staging" and state["traces"] == 0.25
    assert {"django", "celery"} <= set(state["integrations"])
    assert state["user_info"] is False and state["frame_vars"] is False

    bad = settings_in_a_process(
        {"SENTRY_DSN": "http://k@127.0.0.1:9/1", "SENTRY_TRACES_SAMPLE_RATE": "2"}
    )
    assert bad.returncode != 0 and "SENTRY_TRACES_SAMPLE_RATE" in bad.stderr


def wsgi_request(*, method: str, path: str, query: str, form: dict, headers: dict) -> tuple:
    """One request through Django's WSGI handler, as Gunicorn makes it (the
    test client skips the WSGI layer, where the SDK reads URL and headers)."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections

    body = urlencode(form).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.24",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    status = []
    # As Django's test client does: the test's transaction must survive the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda s, h, *a: status.append((s, dict(h))))
        b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return status[0]


@pytest.mark.django_db
def test_a_failing_view_reaches_the_service_without_personal_data(reporter, client):
    user = UserFactory(username="felrapport.testare", email="felrapport.testare@kommun.example")
    client.force_login(user)
    session_id = client.cookies["sessionid"].value
    csrf_token = "k" * 32

    status, response_headers = wsgi_request(
        method="POST",
        path="/sok/",
        query=f"personnummer={PERSONNUMMER['separated']}&q=hemlig-fraga",
        form={"personnummer": PERSONNUMMER["separated_long"], "anteckning": "hemlig-anteckning"},
        headers={
            "Cookie": f"sessionid={session_id}; csrftoken={csrf_token};"
            f" anteckning={PERSONNUMMER['long']}",
            "X-CSRFToken": csrf_token,
            "Referer": f"http://testserver/deltagare/?pnr={PERSONNUMMER['short']}",
            "X-Forwarded-For": "198.51.100.23",
            "User-Agent": "Testwebblasare/1.0",
            "Authorization": "Bearer hemlig-token",
        },
    )
    assert status.startswith("500")

    events = envelopes()
    errors = [e for e in events if e.get("exception")]
    assert errors, f"no error event arrived: {raw_received()[:500]}"
    event = errors[0]
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "no participant with personnummer [personnummer]"
    assert event["request"] == {"method": "POST", "url": "http://testserver/sok/"}
    assert event.get("user", {}) in ({}, {"id": str(user.pk)}, {"id": user.pk})
    assert event["environment"] == "test"
    assert event["tags"]["request_id"] == response_headers["X-Request-ID"]
    for frame in exception["stacktrace"]["frames"]:
        assert "vars" not in frame
    crumbs = event.get("breadcrumbs", {}).get("values", [])
    assert any(c.get("message") == "looking up [personnummer]" for c in crumbs), (
        len(crumbs),
        [c for c in crumbs if c.get("category") != "query"],
    )

    # The whole of what was sent, every envelope, byte for byte.
    everything = raw_received()
    assert leaks(everything) == []
    for secret in (
        session_id,
        csrf_token,
        "hemlig-fraga",
        "hemlig-anteckning",
        "hemlig-token",
        "felrapport.testare",
        "kommun.example",
        "198.51.100.2",  # X-Forwarded-For and REMOTE_ADDR
        "Testwebblasare",
        "sessionid",
        "q=",
    ):
        assert secret not in everything, secret


@pytest.mark.django_db
def test_a_failing_task_reaches_the_service_with_its_arguments_scrubbed(reporter, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    result = failing_task.delay(f"deltagare {PERSONNUMMER['separated_long']}")
    assert result.failed()

    events = [e for e in envelopes() if e.get("exception")]
    assert events, f"no error event arrived: {raw_received()[:500]}"
    exception = events[0]["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "task failed for deltagare [personnummer]"
    assert leaks(raw_received()) == []


def test_before_send_strips_what_an_integration_might_still_add():
    """The second layer alone, on an event carrying everything the SDK's
    integrations can put there."""
    pnr = PERSONNUMMER["separated_long"]
    event = {
        "event_id": "0123456789abcdef0123456789abcdef",
        "message": f"failed for {pnr}",
        "logentry": {"message": "failed for %s", "params": [pnr]},
        "request": {
            "method": "GET",
            "url": f"https://app.example/deltagare/?pnr={pnr}#x",
            "query_string": f"pnr={pnr}",
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc", "Referer": f"https://x/?pnr={pnr}"},
            "data": {"personnummer": pnr},
            "env": {"REMOTE_ADDR": "198.51.100.23"},
        },
        "user": {"id": 7, "username": "anna", "email": "anna@kommun.example", "ip_address": "1"},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"bad {PERSONNUMMER['short']}",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"pnr": pnr}}]},
                }
            ]
        },
        "threads": {"values": [{"stacktrace": {"frames": [{"vars": {"x": pnr}}]}}]},
        "breadcrumbs": {"values": [{"message": f"lookup {PERSONNUMMER['separated']}"}]},
        "extra": {"celery-job": {"args": [pnr], "kwargs": {pnr: PERSONNUMMER["long"]}}},
        "contexts": {"trace": {"trace_id": "1234567890123456abcdefabcdefabcd"}},
    }
    sent = error_reporting.before_send(event, {})
    text = json.dumps(sent)
    assert leaks(text) == []
    assert sent["request"] == {"method": "GET", "url": "https://app.example/deltagare/"}
    assert sent["user"] == {"id": 7}
    assert "vars" not in json.dumps(sent["exception"]) and "vars" not in json.dumps(sent["threads"])
    assert sent["exception"]["values"][0]["value"] == "bad [personnummer]"
    assert sent["extra"]["celery-job"]["args"] == ["[personnummer]"]
    # The SDK's own ids are left as they are.
    assert sent["event_id"] == event["event_id"]
    assert sent["contexts"]["trace"]["trace_id"] == "1234567890123456abcdefabcdefabcd"


def test_before_breadcrumb_drops_an_outgoing_requests_query_string():
    crumb = {
        "type": "http",
        "category": "httplib",
        "data": {
            "url": f"https://idp.example/api?pnr={PERSONNUMMER['long']}",
            "http.query": f"pnr={PERSONNUMMER['long']}",
            "method": "GET",
        },
    }
    sent = error_reporting.before_breadcrumb(crumb, {})
    assert sent["data"] == {"url": "https://idp.example/api", "method": "GET"}
    assert leaks(json.dumps(sent)) == []


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_real_worker_reports_a_failed_task_without_its_arguments(ingest, tmp_path):
    """A worker started as in production, its settings from the environment
    with SENTRY_DSN: a task that fails with a personnummer among its
    arguments is reported from the worker process, without the arguments."""
    import time
    import uuid

    from bostadforst.tasks import ping

    from .redis_faults import use_celery

    url = os.environ["TEST_REDIS_URL"]
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
    queue = f"bf-sentrytest-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "REDIS_URL": url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{ingest.server_port}/1",
        "SENTRY_ENVIRONMENT": "worker-test",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "bostadforst", "worker"),
        *("-P", "solo", "--loglevel", "INFO", "-Q", queue, "-n", f"{queue}@%h"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        # ping takes one argument: two make it fail in the worker (TypeError;
        # sent by name, past the sender's own check of the arguments).
        result = ping.app.send_task(
            ping.name, args=[PERSONNUMMER["separated_long"], "x"], queue=queue
        )
        result.get(timeout=90, propagate=False)
        assert result.failed()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            events = [e for e in envelopes(timeout=0) if e.get("exception")]
            failed = [e for e in events if e["exception"]["values"][-1]["type"] == "TypeError"]
            if failed:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        use_celery(**old)
    assert failed, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert failed[0]["environment"] == "worker-test"
    job = failed[0]["extra"]["celery-job"]
    assert job["task_name"] == "bostadforst.ping"
    assert "args" not in job and "kwargs" not in job  # DATA_COLLECTION["queues"]
    assert leaks(raw_received()) == []
