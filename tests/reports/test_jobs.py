"""Report jobs: eager and through a real worker, idempotence, failure, the
outbox when the broker is down, and the PDF (real, with figures, fetching nothing)."""

import ast
import io
import os
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bostadforst.celery import app
from bostadforst.pdf import StaticOnlyFetcher, render_pdf
from housing.models import ExitReason
from reports import services
from reports.models import Report
from reports.tasks import generate_report
from tests.housing.factories import LandlordFactory

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")


@pytest.fixture
def cohort(db, tenancy):
    for _ in range(4):
        tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-03-01", move_out="2023-01-01", reason=ExitReason.EVICTED)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_task_runs_in_process_and_stores_figures_and_pdf(
    cohort, unit_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_order(as_of=date(2024, 6, 30), acting_user=unit_manager)
    report.refresh_from_db()
    assert report.state == Report.State.DONE
    assert report.sent_to_broker
    assert report.started_at and report.finished_at
    assert report.figures["cohort"] == 5
    text = pdf_text(report.pdf.read())
    assert "Kvarboende i Bostad först" in text
    assert "80,0" in text  # the rate
    assert "Målet 80" in text and "uppnått" in text
    assert "Exempelkommunen" in text or "kommun" in text.lower()


@pytest.mark.django_db
def test_the_order_is_sent_only_after_commit(cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.report_order(as_of=date(2024, 6, 30))
    report.refresh_from_db()
    assert report.state == Report.State.QUEUED and not report.sent_to_broker
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_report_is_rendered_once_per_id(cohort):
    report = Report.objects.create(as_of=date(2024, 6, 30))
    assert generate_report.delay(report.pk).get() == Report.State.DONE
    report.refresh_from_db()
    first_pdf, finished = report.pdf.name, report.finished_at
    # A re-delivered message (acks_late) does nothing the second time.
    assert generate_report.delay(report.pk).get() == Report.State.DONE
    report.refresh_from_db()
    assert (report.pdf.name, report.finished_at) == (first_pdf, finished)


@pytest.mark.django_db
def test_a_failure_is_recorded_with_its_reason(cohort, monkeypatch):
    report = Report.objects.create(as_of=date(2024, 6, 30))

    def broken(**kwargs):
        raise ValueError("the template is broken")

    monkeypatch.setattr("reports.pdf.render_report_pdf", broken)
    assert generate_report.delay(report.pk).get() == Report.State.FAILED
    report.refresh_from_db()
    assert report.state == Report.State.FAILED
    assert "the template is broken" in report.error


@pytest.mark.django_db
def test_transient_database_errors_are_retried_then_recorded(cohort, monkeypatch):
    report = Report.objects.create(as_of=date(2024, 6, 30))
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        raise OperationalError("database is locked")

    monkeypatch.setattr("reports.services.report_figures", flaky)
    generate_report.apply(args=[report.pk])
    report.refresh_from_db()
    assert len(calls) == generate_report.max_retries + 1
    assert report.state == Report.State.FAILED
    assert "database is locked" in report.error


@pytest.mark.django_db
def test_transient_error_then_success_finishes_the_report(cohort, monkeypatch):
    report = Report.objects.create(as_of=date(2024, 6, 30))
    real = services.report_figures
    calls = []

    def once_flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection")
        return real(**kwargs)

    monkeypatch.setattr("reports.services.report_figures", once_flaky)
    generate_report.apply(args=[report.pk])
    report.refresh_from_db()
    assert report.state == Report.State.DONE


@pytest.mark.django_db
def test_monthly_report_is_ordered_once_per_month(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.report_order_monthly(today=date(2025, 3, 1))
        again = services.report_order_monthly(today=date(2025, 3, 15))
    assert first.as_of == date(2025, 2, 28) and first.scheduled
    assert again is None
    first.refresh_from_db()
    assert first.state == Report.State.DONE


def test_beat_schedules_the_monthly_report_and_the_sweep(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reports.monthly", "reports.sweep_unsent"} <= tasks


def use_broker(**conf) -> dict:
    """Reconfigure Celery and drop its cached connection and producer pools."""
    old = {k: app.conf[k] for k in conf}
    app.conf.update(conf)
    # Dropped, not closed: kombu keeps pools in a global registry keyed by
    # connection, and a closed pool would be handed out again.
    app._pool = None
    app.amqp._producer_pool = None
    return old


@pytest.fixture
def broker_down():
    """Celery pointed at a closed port, not eager: what a Redis outage looks like."""
    old = use_broker(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    yield
    use_broker(**old)


@pytest.mark.django_db
def test_with_the_broker_down_ordering_answers_fast_and_the_sweep_sends_later(
    um_client, cohort, broker_down, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = um_client.post(
            reverse("reports:report-list"), {"as_of": "2024-06-30", "months": "0"}
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 5, elapsed
    report = Report.objects.get()
    assert report.state == Report.State.QUEUED
    assert report.sent_to_broker is False
    page = um_client.get(report.get_absolute_url()).content.decode()
    assert "skickas automatiskt" in page
    # Still down: the sweep leaves it unsent, within bounded time.
    started = time.monotonic()
    assert services.report_sweep_unsent(grace=services.timedelta(0)) == 0
    assert time.monotonic() - started < 5
    # The broker is back (in-process here): the sweep sends it and it runs.
    use_broker(broker_url="memory://", task_always_eager=True)
    assert services.report_sweep_unsent(grace=services.timedelta(0)) == 1
    report.refresh_from_db()
    assert report.sent_to_broker and report.state == Report.State.DONE


@pytest.mark.django_db
def test_the_sweep_leaves_fresh_orders_to_their_own_send(db):
    Report.objects.create(as_of=date(2024, 6, 30))
    assert services.report_sweep_unsent() == 0


@pytest.mark.django_db
def test_the_sweep_resends_a_job_whose_worker_died_mid_run(cohort):
    died = Report.objects.create(
        as_of=date(2024, 6, 30),
        state=Report.State.RUNNING,
        sent_to_broker=True,
        started_at=timezone.now() - services.STALE_RUNNING - services.timedelta(minutes=1),
    )
    busy = Report.objects.create(
        as_of=date(2024, 6, 30),
        state=Report.State.RUNNING,
        sent_to_broker=True,
        started_at=timezone.now(),
    )
    assert services.report_sweep_unsent(grace=services.timedelta(0)) == 1
    died.refresh_from_db()
    busy.refresh_from_db()
    assert died.state == Report.State.DONE and died.pdf
    assert busy.state == Report.State.RUNNING  # a live job is left alone


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` in the reports app's file names, at any depth."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(filter(None, ["reports" if node.level else "", node.module]))
            modules |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return modules


def test_imports_run_one_way_from_tasks_to_services():
    assert "reports.services" in imported_modules(Path(services.__file__).with_name("tasks.py"))
    assert "reports.tasks" not in imported_modules(Path(services.__file__))


def test_a_process_that_never_imported_the_tasks_finds_the_report_task_by_name(settings):
    """A web process imports no tasks module (autodiscovery runs only in a
    worker); the service still finds its task, so an order runs in-process
    without a broker and is sent by name with one."""
    script = (
        "import sys\n"
        "import django\n"
        "django.setup()\n"
        "from bostadforst.celery import task_by_name\n"
        "from reports import services\n"
        "before = 'reports.tasks' in sys.modules\n"
        "task = task_by_name(services.GENERATE_TASK)\n"
        "print(before, task.name, task.run.__module__)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bostadforst.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "reports.generate", "reports.tasks"]


@pytest.mark.django_db
def test_running_a_deleted_order_answers_missing():
    assert services.report_run(report_id=987654) == services.MISSING


# --- PDF safety -----------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_trap():
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()


def test_the_http_trap_catches_what_an_unrestricted_weasyprint_fetches(http_trap):
    """The control for the tests below: without the restricted fetcher the
    same HTML does reach the trap, so an empty trap there means "not fetched"."""
    from weasyprint import HTML

    url, hits = http_trap
    HTML(string=f'<img src="{url}/pixel.png"><p>hej</p>').write_pdf()
    assert hits == ["/pixel.png"]


def test_the_fetcher_refuses_everything_but_static_files_and_data(http_trap):
    url, hits = http_trap
    html = (
        f'<html><head><link rel="stylesheet" href="/static/reports/pdf.css">'
        f'<link rel="attachment" href="file:///etc/passwd"></head><body>'
        f'<img src="{url}/pixel.png"><img src="file:///etc/passwd">'
        f'<a rel="attachment" href="file:///etc/hostname">x</a>'
        f'<img src="/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd">'
        f'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        f"<p>hej</p></body></html>"
    )
    fetcher = StaticOnlyFetcher()
    pdf = render_pdf(html, fetcher=fetcher)
    refused = fetcher.refused
    assert hits == []
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert b"root:" not in pdf
    assert any(u.startswith("file:///etc/passwd") for u in refused)
    assert any(u.startswith(url) for u in refused)
    assert any("%2e%2e" in u for u in refused)
    assert not any(u.endswith("/static/reports/pdf.css") for u in refused)


def test_static_fetcher_serves_the_apps_stylesheet():
    response = StaticOnlyFetcher().fetch("https://bostadforst.invalid/static/reports/pdf.css")
    assert b"@page" in response.read()


@pytest.mark.django_db
def test_hostile_names_and_headings_are_text_in_the_pdf(tenancy, http_trap):
    url, hits = http_trap
    hostile = f'<img src="{url}/x.png"><link rel=attachment href="file:///etc/passwd">'
    tenancy(move_in="2022-01-01", landlord=LandlordFactory(name=hostile[:200]))
    report = Report.objects.create(as_of=date(2024, 6, 30), title=hostile[:200])
    assert generate_report.delay(report.pk).get() == Report.State.DONE
    report.refresh_from_db()
    data = report.pdf.read()
    assert hits == []
    assert not PdfReader(io.BytesIO(data)).attachments
    assert "<img" in pdf_text(data)  # shown as text, not obeyed


# --- A real worker on Redis (CI) ---------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_report_runs_through_a_real_worker(transactional_db, tenancy):
    if connection.vendor != "postgresql":
        pytest.skip("the worker thread needs a database shared across connections (PostgreSQL)")
    from celery.contrib.testing.worker import start_worker

    tenancy(move_in="2022-01-01")
    url = os.environ["TEST_REDIS_URL"]
    old = use_broker(broker_url=url, result_backend=url, task_always_eager=False)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            report = services.report_order(as_of=date(2024, 6, 30))  # commits (no test txn)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                report.refresh_from_db()
                if report.state in (Report.State.DONE, Report.State.FAILED):
                    break
                time.sleep(0.5)
        assert report.state == Report.State.DONE, report.error
        assert report.sent_to_broker
        assert report.figures["cohort"] == 1
    finally:
        use_broker(**old)
