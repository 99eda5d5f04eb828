"""Report jobs: eager and through a real worker, idempotence, failure, the
outbox when the broker is down, and the PDF (real, with figures, fetching nothing)."""

import ast
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bostadforst.celery import app
from bostadforst.mixins import TOKEN_FIELD
from bostadforst.pdf import StaticOnlyFetcher, render_pdf
from housing.models import ExitReason
from reports import pdf, services
from reports.models import Report
from reports.tasks import generate_report
from tests.bostadforst.redis_faults import REDIS_DOWN, celery_on_dead_redis, use_celery
from tests.housing.factories import LandlordFactory
from tests.reports.url_samples import FORM_SAMPLES
from tests.reports.workers import killable_worker

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


@pytest.fixture(params=sorted(REDIS_DOWN))
def redis_down(request):
    """Celery's broker and result backend on a dead Redis: refusing
    connections, or frozen (accepting them and never answering)."""
    with celery_on_dead_redis(request.param) as url:
        yield url


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_ordering_a_report_answers_within_five_seconds(
    role_groups, um_client, redis_down
):
    """The order's send runs after its commit, inside the request; with Redis
    down it gives up quickly and leaves the order to the sweep. (Redis
    refusing took 19 s here and Redis frozen 63 s: the result backend's
    reconnects, 20 at one-second intervals, before the broker was tried.)"""
    data = {**FORM_SAMPLES["reports:report-list"](None), TOKEN_FIELD: str(uuid.uuid4())}
    started = time.monotonic()
    response = um_client.post(reverse("reports:report-list"), data)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.1f} s"
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == report.get_absolute_url()
    assert (report.state, report.sent_to_broker) == (Report.State.QUEUED, False)
    assert report.title == data["title"]


@pytest.mark.django_db
def test_with_the_broker_down_the_order_waits_and_the_sweep_sends_it_later(
    um_client, cohort, redis_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = um_client.post(
            reverse("reports:report-list"), {"as_of": "2024-06-30", "months": "0"}
        )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.state == Report.State.QUEUED
    assert report.sent_to_broker is False
    page = um_client.get(report.get_absolute_url()).content.decode()
    assert "skickas automatiskt" in page
    # Still down: the sweep leaves it unsent, within bounded time.
    started = time.monotonic()
    assert services.report_sweep_unsent(grace=timedelta(0)) == 0
    assert time.monotonic() - started < 5
    # The broker is back (in-process here): the sweep sends it and it runs.
    use_celery(broker_url="memory://", result_backend="cache+memory://", task_always_eager=True)
    assert services.report_sweep_unsent(grace=timedelta(0)) == 1
    report.refresh_from_db()
    assert report.sent_to_broker and report.state == Report.State.DONE


@pytest.mark.django_db
def test_the_sweep_leaves_fresh_orders_to_their_own_send(db):
    Report.objects.create(as_of=date(2024, 6, 30))
    assert services.report_sweep_unsent() == 0


# --- Heartbeat: a job whose worker died is sent again, and stored once ---------------


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


@pytest.fixture
def renders(monkeypatch):
    """Every PDF render of a report job (the real one), by report id."""
    real = pdf.render_report_pdf
    calls = []

    def counted(*, context):
        calls.append(context["report"].pk)
        return real(context=context)

    monkeypatch.setattr(pdf, "render_report_pdf", counted)
    return calls


def running(*, heartbeat_at, started_at=None, **fields) -> Report:
    """A job that a worker claimed (and may have died with)."""
    return Report.objects.create(
        as_of=date(2024, 6, 30),
        state=Report.State.RUNNING,
        sent_to_broker=True,
        run_id=uuid.uuid4(),
        started_at=started_at or heartbeat_at,
        heartbeat_at=heartbeat_at,
        **fields,
    )


@pytest.mark.django_db
def test_the_sweep_resends_a_job_whose_worker_stopped_beating(cohort, renders, settings):
    """A worker killed mid-render stops beating; within a few minutes (not an
    hour, as when the start time counted) the sweep sends the job again and
    it is rendered once. A job that started long ago but still beats is
    another worker's long render, and is left alone."""
    timeout = settings.REPORT_HEARTBEAT_TIMEOUT
    assert timeout <= 5 * 60
    died = running(heartbeat_at=ago(timeout + 30), started_at=ago(timeout + 60))
    busy = running(heartbeat_at=ago(5), started_at=ago(2 * 60 * 60))
    assert services.report_sweep_unsent(grace=timedelta(0)) == 1
    died.refresh_from_db()
    assert died.state == Report.State.DONE and died.pdf
    assert renders == [died.pk]
    before = busy.run_id
    busy.refresh_from_db()
    assert (busy.state, busy.run_id) == (Report.State.RUNNING, before)
    # The dead worker's message, re-delivered late (acks_late), renders nothing.
    assert generate_report.delay(died.pk).get() == Report.State.DONE
    assert renders == [died.pk]


@pytest.mark.django_db
def test_a_redelivered_message_leaves_a_job_that_still_beats_to_its_worker(cohort, renders):
    busy = running(heartbeat_at=ago(5), started_at=ago(2 * 60 * 60))
    assert generate_report.delay(busy.pk).get() == Report.State.RUNNING
    assert renders == []


@pytest.mark.django_db
def test_a_job_claimed_before_heartbeats_existed_counts_from_its_start(cohort, settings):
    old = running(heartbeat_at=None, started_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 60))
    assert services.report_sweep_unsent(grace=timedelta(0)) == 1
    old.refresh_from_db()
    assert old.state == Report.State.DONE


@pytest.mark.django_db
def test_a_stalled_run_that_lost_its_job_stores_nothing(cohort, monkeypatch, settings, tmp_path):
    """The worker was stalled (not dead) for longer than the timeout: the
    sweep handed its job to another worker, which claimed it and is
    rendering. When the stalled run's render returns, it must not store its
    result over the other run's job (its writes need its own run id), and
    its PDF file is removed again."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    report = Report.objects.create(as_of=date(2024, 6, 30))
    real = pdf.render_report_pdf
    other_run = {}

    def stalled_then_taken_over(*, context):
        Report.objects.filter(pk=report.pk).update(
            heartbeat_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 1)
        )
        # The sweep re-queues it; its send fails (broker down); a worker that
        # got the message from an earlier sweep claims it.
        with celery_on_dead_redis("refused"):
            assert services.report_sweep_unsent(grace=timedelta(0)) == 0
        other_run["claimed"] = services._claim(report.pk)
        return real(context=context)

    monkeypatch.setattr(pdf, "render_report_pdf", stalled_then_taken_over)
    assert services.report_run(report_id=report.pk) == Report.State.RUNNING
    report.refresh_from_db()
    _, run_id = other_run["claimed"]
    assert (report.state, report.run_id) == (Report.State.RUNNING, run_id)
    assert not report.pdf and report.figures is None
    assert list(tmp_path.rglob("*.pdf")) == []


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_while_the_render_runs(cohort, settings, monkeypatch):
    """The render is one long call; a thread beats during it, and is gone
    (stopped and joined) when the job ends."""
    settings.REPORT_HEARTBEAT_INTERVAL = 0.05
    report = Report.objects.create(as_of=date(2024, 6, 30))
    real = pdf.render_report_pdf
    seen = []

    def slow(*, context):
        seen.append(Report.objects.values_list("heartbeat_at", flat=True).get(pk=report.pk))
        time.sleep(0.5)  # ten intervals
        seen.append(Report.objects.values_list("heartbeat_at", flat=True).get(pk=report.pk))
        return real(context=context)

    monkeypatch.setattr(pdf, "render_report_pdf", slow)
    assert services.report_run(report_id=report.pk) == Report.State.DONE
    assert seen[1] > seen[0]
    assert not [t for t in threading.enumerate() if t.name.startswith("heartbeat ")]
    report.refresh_from_db()
    assert report.heartbeat_at >= seen[1] and report.pdf


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_beat_finds_its_job_gone_stops_before_the_render(
    cohort, settings, monkeypatch, renders
):
    """A stalled worker learns from its next beat that the sweep took its
    job, and skips what is left (the render) instead of doing it twice."""
    settings.REPORT_HEARTBEAT_INTERVAL = 0.05
    report = Report.objects.create(as_of=date(2024, 6, 30))
    real = services.report_figures

    def stalled(**kwargs):
        Report.objects.filter(pk=report.pk).update(
            heartbeat_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 1)
        )
        with celery_on_dead_redis("refused"):
            assert services.report_sweep_unsent(grace=timedelta(0)) == 0
        time.sleep(0.3)  # the next beats find the job gone
        return real(**kwargs)

    monkeypatch.setattr(services, "report_figures", stalled)
    assert services.report_run(report_id=report.pk) == Report.State.QUEUED
    assert renders == []
    report.refresh_from_db()
    assert (report.state, report.sent_to_broker) == (Report.State.QUEUED, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_beat_that_commits_while_the_sweep_waits_keeps_the_job(settings):
    """The sweep's stale test is in its UPDATE's WHERE: a beat in flight
    (row locked, not yet committed) makes the sweep wait, and PostgreSQL then
    re-checks the WHERE on the beaten row and leaves it. A sweep that read
    the stale rows first and then updated them by id would take the job."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and re-checked WHERE clauses are PostgreSQL's")
    job = running(heartbeat_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 30))
    swept = []
    with transaction.atomic():
        assert Report.objects.filter(pk=job.pk, run_id=job.run_id).update(
            heartbeat_at=timezone.now()
        )

        def sweep():
            try:
                swept.append(services.report_sweep_unsent(grace=timedelta(0)))
            finally:
                connections.close_all()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        sweeper.join(timeout=1)
        assert sweeper.is_alive()  # waiting for the beat's row lock
    sweeper.join(timeout=10)
    assert swept == [0]
    job.refresh_from_db()
    assert job.state == Report.State.RUNNING


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
        f'<html><head><title>t</title><link rel="stylesheet" href="/static/reports/pdf.css">'
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
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
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
        use_celery(**old)


# The worker for the test below: a real one, whose render takes ten minutes.
SLOW_WORKER = """
import sys, time
import django
django.setup()
from reports import pdf
def never_done(*, context):
    time.sleep(600)
pdf.render_report_pdf = never_done
from bostadforst.celery import app
app.worker_main(["worker", "-P", "solo", "-Q", sys.argv[1], "-n", sys.argv[1] + "@%h",
                 "--without-mingle", "--without-gossip", "--without-heartbeat",
                 "--loglevel", "WARNING"])
"""


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_report_whose_worker_is_killed_mid_render_is_sent_again_and_rendered_once(
    transactional_db, tenancy, tmp_path, settings, renders
):
    """Finding 5 of issue 12, as it happened: a worker beats while it renders,
    is killed, and its job is sent again as soon as its heartbeat is stale."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the test database (PostgreSQL)")
    tenancy(move_in="2022-01-01")
    report = Report.objects.create(as_of=date(2024, 6, 30), sent_to_broker=True)
    with killable_worker(tmp_path, SLOW_WORKER, name="killtest") as (queue, log, worker):
        generate_report.apply_async(args=[report.pk], queue=queue)
        beats = set()
        deadline = time.monotonic() + 90
        while len(beats) < 3 and time.monotonic() < deadline and worker.poll() is None:
            report.refresh_from_db()
            if report.state == Report.State.RUNNING:
                beats.add(report.heartbeat_at)
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:]
    assert len(beats) >= 3, f"the worker did not beat while rendering:\n{tail}"
    settings.REPORT_HEARTBEAT_TIMEOUT = 1
    time.sleep(1.5)  # the dead worker's last beat is now stale
    # The broker is the in-process one now: the sweep's send renders here.
    assert services.report_sweep_unsent(grace=timedelta(0)) == 1
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    assert renders == [report.pk]
    assert report.figures["cohort"] == 1
