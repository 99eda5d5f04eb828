"""gunicorn.conf.py and the container's health check, against a real Gunicorn."""

import json
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bostadforst.healthcheck import host_header, main, web_is_healthy

ROOT = Path(__file__).resolve().parents[2]


def config(**env) -> dict:
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_workers_follow_the_cpu_count_within_a_cap(monkeypatch):
    import multiprocessing

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 2)
    assert config()["workers"] == 5
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 64)
    assert config()["workers"] == 8
    assert config(GUNICORN_MAX_WORKERS="20")["workers"] == 20
    assert config(WEB_CONCURRENCY="3")["workers"] == 3


def test_timeout_and_an_access_log_without_query_strings_or_referer():
    settings = config()
    assert settings["timeout"] == 60
    assert config(GUNICORN_TIMEOUT="90")["timeout"] == 90
    access = settings["access_log_format"]
    assert "%(U)s" in access
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(a)s"):  # request line, query, referer, agent
        assert atom not in access


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="Gunicorn runs on POSIX")
def test_a_real_gunicorn_serves_healthz_and_logs_json_access_lines_without_the_query(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": ".kommun.example",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
        "DJANGO_DEBUG": "false",
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bostadforst.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.2)
            os.environ["ALLOWED_HOSTS"], old = ".kommun.example", os.environ.get("ALLOWED_HOSTS")
            try:
                # The container's health check: 127.0.0.1 is not an allowed
                # host, so it sends the first of ALLOWED_HOSTS.
                assert main([f"127.0.0.1:{port}"]) == 0
                import http.client

                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request(
                    "GET",
                    "/healthz?personnummer=198112189876",
                    headers={"Host": "kommun.example", "X-Request-ID": "probe-1"},
                )
                response = conn.getresponse()
                assert response.status == 200
                assert json.loads(response.read())["database"] == "ok"
                conn.close()
            finally:
                if old is None:
                    del os.environ["ALLOWED_HOSTS"]
                else:
                    os.environ["ALLOWED_HOSTS"] = old
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = log.read_text()
    access = [
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and json.loads(line)["logger"] == "gunicorn.access"
    ]
    probe = [line for line in access if "probe-1" in line["message"]]
    assert probe, output[-3000:]
    assert '"GET /healthz" 200' in probe[0]["message"]
    assert "198112189876" not in output and "personnummer=" not in output


def test_the_health_check_passes_a_late_worker_but_not_a_missing_cache():
    body = {"status": "error", "database": "ok", "cache": "ok", "worker": "stale"}
    assert web_is_healthy(503, json.dumps(body).encode())
    body["cache"] = "unavailable"
    assert not web_is_healthy(503, json.dumps(body).encode())
    assert not web_is_healthy(400, b"<html>Bad Request</html>")
    assert host_header("*,bostad.kommun.se") == "bostad.kommun.se"
    assert host_header(".kommun.se") == "kommun.se"
    assert host_header("") == "localhost"


def test_the_health_check_fails_when_nothing_answers():
    assert main([f"127.0.0.1:{free_port()}"]) == 1
