"""The cohort import as background jobs (issue 13): the upload is kept on the
server and checked by a preview job, the import of the same file is a second
job, both report their progress, the result page lists every error (and
downloads them), large files go through, and an import whose worker died is
sent again by the sweep and still imports once, all or nothing."""

import io
import os
import threading
import time
import uuid
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bostadforst.celery import app
from bostadforst.mixins import TOKEN_FIELD
from housing.models import Tenancy
from reports import services
from reports.models import CohortImport, ImportFile
from reports.tasks import run_cohort_import
from tests.bostadforst.redis_faults import celery_on_dead_redis, use_celery
from tests.reports.factories import CohortImportFactory
from tests.reports.workers import killable_worker

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")


def token() -> str:
    return str(uuid.uuid4())


def upload(client, data: bytes, name: str = "kohort.csv"):
    return client.post(
        reverse("reports:cohort-import"),
        {"file": SimpleUploadedFile(name, data, "text/csv"), TOKEN_FIELD: token()},
    )


def status(client, job) -> dict:
    return client.get(reverse("reports:cohort-import-status", kwargs={"pk": job.pk})).json()


def page(client, job) -> str:
    response = client.get(job.get_absolute_url())
    assert response.status_code == 200
    return unescape(response.content.decode())


def start(client, job):
    return client.post(job.get_absolute_url(), {TOKEN_FIELD: token()})


def queued(**fields) -> CohortImport:
    """A preview job ordered and sent, not yet run (run by hand in the test)."""
    return CohortImportFactory(
        state=CohortImport.State.QUEUED,
        finished_at=None,
        stage="",
        done=0,
        total=None,
        counts=None,
        **fields,
    )


def padded(data: bytes, size: int) -> bytes:
    """``data`` with empty rows (only delimiters) after it up to ``size`` bytes:
    a file that large whose rows are the 20 of ``data``."""
    filler = b",,,,,,,,\n"
    return data + filler * ((size - len(data)) // len(filler) + 1)


# --- Preview, then import, through the pages ----------------------------------------


@pytest.mark.django_db
def test_an_upload_is_previewed_by_a_job_and_imported_by_a_second_job_of_the_same_file(
    um_client, unit_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(um_client, HELSINGBORG.read_bytes())
    preview = CohortImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == preview.get_absolute_url()
    preview.refresh_from_db()
    assert (preview.mode, preview.state) == (CohortImport.Mode.PREVIEW, CohortImport.State.DONE)
    assert preview.sent_to_broker and preview.ordered_by == unit_manager
    assert not Tenancy.objects.exists()  # the preview writes nothing
    assert preview.counts["tenancies_created"] == 20
    assert preview.source  # what the file was read as
    html = page(um_client, preview)
    assert preview.source in html
    assert "Importera" in html
    assert "data-job-status-url" not in html  # finished: nothing to poll

    with django_capture_on_commit_callbacks(execute=True):
        response = start(um_client, preview)
    commit = CohortImport.objects.get(mode=CohortImport.Mode.COMMIT)
    assert response.status_code == 302
    assert response["Location"] == commit.get_absolute_url()
    commit.refresh_from_db()
    assert (commit.state, commit.committed, commit.preview_id) == (
        CohortImport.State.DONE,
        True,
        preview.pk,
    )
    assert commit.file_id == preview.file_id  # the same stored file, not a second upload
    assert Tenancy.objects.count() == 20
    assert commit.counts["tenancies_created"] == 20
    # The imported file's personal data is not kept.
    assert bytes(ImportFile.objects.get().content) == b""
    html = page(um_client, commit)
    assert "Filen är importerad" in html
    # The preview now points at its import and offers no second one.
    html = page(um_client, preview)
    assert commit.get_absolute_url() in html
    assert f'action="{preview.get_absolute_url()}"' not in html


@pytest.mark.django_db
def test_the_status_reports_rows_checked_and_written(um_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(um_client, HELSINGBORG.read_bytes())
    preview = CohortImport.objects.get()
    answer = status(um_client, preview)
    assert answer["finished"] and answer["state"] == "done"
    assert (answer["done"], answer["total"], answer["percent"]) == (20, 20, 100)
    assert answer["label"] == "Klar"
    with django_capture_on_commit_callbacks(execute=True):
        start(um_client, preview)
    answer = status(um_client, CohortImport.objects.get(mode=CohortImport.Mode.COMMIT))
    assert (answer["stage"], answer["done"], answer["total"]) == ("write", 20, 20)
    assert answer["text"] == "20 av 20 rader skrivna"


@pytest.mark.django_db
def test_a_queued_job_page_shows_a_progress_bar_polled_by_an_external_script(um_client):
    job = queued()
    html = page(um_client, job)
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert 'data-job-status-url="' + reverse("reports:cohort-import-status", args=[job.pk]) in html
    assert "js/job-status.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    assert f'href="{job.get_absolute_url()}"' in html  # "Uppdatera" without JavaScript
    running = CohortImportFactory(
        state=CohortImport.State.RUNNING,
        counts=None,
        stage=CohortImport.Stage.CHECK,
        done=1200,
        total=2000,
    )
    html = page(um_client, running)
    assert "1\xa0200 av 2\xa0000 rader kontrollerade" in html
    assert 'aria-valuenow="60"' in html and "bf-progress-60" in html
    assert status(um_client, running)["text"] == "1\xa0200 av 2\xa0000 rader kontrollerade"


# --- Progress while the job runs --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_the_page_while_the_job_runs(
    role_groups, unit_manager, client_for, settings, monkeypatch
):
    """The heartbeat writes the progress through its own connection, so a
    poll sees rows checked while the job runs, and (on PostgreSQL, where the
    import's open transaction does not lock other writers out) rows written
    while the import's transaction is still open."""
    from reports import cohort

    settings.COHORT_IMPORT_PROGRESS_INTERVAL = 0.05
    client = client_for(unit_manager)
    job = queued(ordered_by=unit_manager)
    seen = []
    real = cohort.cohort_import

    def watched(**kwargs):
        report = kwargs["progress"]

        def progress(stage, done, total):
            report(stage, done, total)
            time.sleep(0.3)  # several beats
            seen.append(status(client, job))

        return real(**{**kwargs, "progress": progress})

    monkeypatch.setattr(cohort, "cohort_import", watched)
    assert services.cohort_import_run(import_id=job.pk) == CohortImport.State.DONE
    running = [s for s in seen if s["state"] == "running"]
    assert {"stage": "check", "done": 20, "total": 20} in [
        {k: s[k] for k in ("stage", "done", "total")} for s in running
    ], seen
    assert any(s["text"] == "20 av 20 rader kontrollerade" for s in running)
    if connection.vendor == "postgresql":
        assert any(s["stage"] == "write" for s in running), seen


# --- Errors -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_result_page_lists_every_error_with_its_line_and_nothing_can_be_imported(
    um_client, django_capture_on_commit_callbacks
):
    bad = HELSINGBORG.read_text().replace("2010-05-17", "2010-13-17").replace("social", "hyra")
    with django_capture_on_commit_callbacks(execute=True):
        upload(um_client, bad.encode())
    job = CohortImport.objects.get()
    job.refresh_from_db()
    assert job.state == CohortImport.State.DONE and job.error_count >= 2
    html = page(um_client, job)
    assert "2010-13-17" in html
    for error in job.row_errors:
        assert f">{error['line']}</th>" in html
        assert error["message"] in html
    assert "ingenting importerades" in html
    assert reverse("reports:cohort-import-errors-xlsx", args=[job.pk]) in html
    # No import from a file with errors, even posted by hand.
    response = start(um_client, job)
    assert response.status_code == 400
    assert "Filen har fel" in unescape(response.content.decode())
    assert not CohortImport.objects.filter(mode=CohortImport.Mode.COMMIT).exists()
    assert not Tenancy.objects.exists()


@pytest.mark.django_db
def test_the_errors_download_as_csv_and_xlsx_with_sheet_line_and_message(um_client):
    job = CohortImportFactory(with_errors=True)
    job.row_errors[0]["sheet"] = "Boenden"
    job.save()
    csv = um_client.get(reverse("reports:cohort-import-errors-csv", args=[job.pk]))
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Blad;Rad;Problem"
    assert lines[1] == "Boenden;3;move_in “2010-13-17” är inte ett datum."
    assert lines[2].startswith(";7;landlord “=HYPERLINK(1)”")  # text, not a formula cell
    xlsx = um_client.get(reverse("reports:cohort-import-errors-xlsx", args=[job.pk]))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Blad", "Rad", "Problem"]
    assert rows[1] == ["Boenden", 3, "move_in “2010-13-17” är inte ett datum."]
    assert rows[2][1] == 7 and rows[2][2].startswith("landlord “=HYPERLINK(1)”")
    assert sheet["C3"].data_type == "s"


@pytest.mark.django_db
def test_an_import_cannot_be_started_twice_or_from_a_file_that_changes_nothing(
    um_client, unit_manager
):
    preview = CohortImportFactory()
    first = start(um_client, preview)
    assert first.status_code == 302
    again = start(um_client, preview)  # another tab: a new token
    assert again.status_code == 400
    assert "redan startats" in unescape(again.content.decode())
    assert CohortImport.objects.filter(preview=preview).count() == 1
    nothing = CohortImportFactory(counts={"rows": 20, "tenancies_unchanged": 20})
    assert start(um_client, nothing).status_code == 400
    assert "redan importerad" in page(um_client, nothing)


# --- Size ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("megabytes", [3, 6])
def test_large_files_go_through_the_upload_and_both_jobs(
    um_client, megabytes, django_capture_on_commit_callbacks
):
    """Finding 3: the confirm step re-posted the file's text and Django
    refused it above 2.5 MB (RequestDataTooBig). The file is posted once, as
    a file (streamed to disk), and never again."""
    data = padded(HELSINGBORG.read_bytes(), megabytes * 1024 * 1024)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(um_client, data)
    assert response.status_code == 302
    preview = CohortImport.objects.get()
    assert preview.file.size == len(data)
    assert bytes(preview.file.content) == data
    preview.refresh_from_db()
    assert preview.state == CohortImport.State.DONE, preview.error
    assert preview.error_count == 0 and preview.counts["rows"] == 20
    with django_capture_on_commit_callbacks(execute=True):
        assert start(um_client, preview).status_code == 302
    assert Tenancy.objects.count() == 20


@pytest.mark.django_db
def test_a_file_over_the_limit_gets_a_swedish_form_error(um_client, settings):
    settings.COHORT_IMPORT_MAX_BYTES = 1024 * 1024
    response = upload(um_client, padded(HELSINGBORG.read_bytes(), 1024 * 1024 + 10))
    assert response.status_code == 400
    assert "Filen är större än 1 MB." in unescape(response.content.decode())
    assert not ImportFile.objects.exists()


@pytest.mark.django_db
def test_an_empty_or_missing_file_gets_a_form_error(um_client):
    assert upload(um_client, b"").status_code == 400
    response = um_client.post(reverse("reports:cohort-import"), {TOKEN_FIELD: token()})
    assert response.status_code == 400
    assert "Välj en fil." in unescape(response.content.decode())
    assert not CohortImport.objects.exists()


# --- A worker that died ----------------------------------------------------------


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


@pytest.mark.django_db
def test_an_import_whose_worker_died_is_sent_again_by_the_sweep_and_imports_once(
    unit_manager, settings
):
    """The worker was killed mid-import: its transaction never committed, the
    row says running and its heartbeat is stale. The sweep sends it again;
    it imports the file once, and the dead worker's message, re-delivered
    late, imports nothing."""
    preview = CohortImportFactory()
    commit = CohortImport.objects.create(
        file=preview.file,
        mode=CohortImport.Mode.COMMIT,
        preview=preview,
        ordered_by=unit_manager,
        state=CohortImport.State.RUNNING,
        sent_to_broker=True,
        run_id=uuid.uuid4(),
        started_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 60),
        heartbeat_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 30),
        stage=CohortImport.Stage.WRITE,
        done=7,
        total=20,
    )
    assert services.cohort_import_sweep_unsent(grace=timedelta(0)) == 1
    commit.refresh_from_db()
    assert (commit.state, commit.committed) == (CohortImport.State.DONE, True)
    assert Tenancy.objects.count() == 20
    history = Tenancy.history.count()
    assert run_cohort_import.delay(commit.pk).get() == CohortImport.State.DONE
    assert (Tenancy.objects.count(), Tenancy.history.count()) == (20, history)


@pytest.mark.django_db
def test_a_running_import_that_still_beats_is_left_to_its_worker(unit_manager):
    preview = CohortImportFactory()
    busy = CohortImport.objects.create(
        file=preview.file,
        mode=CohortImport.Mode.COMMIT,
        preview=preview,
        state=CohortImport.State.RUNNING,
        sent_to_broker=True,
        run_id=uuid.uuid4(),
        started_at=ago(2 * 60 * 60),
        heartbeat_at=ago(2),
    )
    assert services.cohort_import_sweep_unsent(grace=timedelta(0)) == 0
    assert run_cohort_import.delay(busy.pk).get() == CohortImport.State.RUNNING
    assert not Tenancy.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stalled_import_that_lost_its_job_rolls_its_rows_back(
    role_groups, unit_manager, settings, monkeypatch
):
    """The worker stalled past the heartbeat timeout while checking; the
    sweep (another process) handed the job to another run. The stalled run
    still writes every row, but its result cannot be stored under its run
    id, so its transaction is rolled back: nothing imported twice, the job
    left to the other run."""
    if connection.vendor != "postgresql":
        pytest.skip("another connection writing during an open import needs PostgreSQL")
    from reports import cohort

    preview = CohortImportFactory(ordered_by=unit_manager)
    commit = CohortImport.objects.create(  # not sent: run below, by hand
        file=preview.file, mode=CohortImport.Mode.COMMIT, preview=preview, sent_to_broker=True
    )
    real = cohort.cohort_import
    other, written = {}, []

    def take_over():
        try:
            CohortImport.objects.filter(pk=commit.pk).update(
                heartbeat_at=ago(settings.REPORT_HEARTBEAT_TIMEOUT + 1)
            )
            with celery_on_dead_redis("refused"):
                assert services.cohort_import_sweep_unsent(grace=timedelta(0)) == 0
            other["run"] = services.IMPORT_JOBS.claim(commit.pk)
        except BaseException as exc:
            other["error"] = exc
            raise
        finally:
            connections.close_all()  # this thread's own

    def stalled(**kwargs):
        report = kwargs["progress"]

        def progress(stage, done, total):
            report(stage, done, total)
            if stage == "check" and "run" not in other:
                thread = threading.Thread(target=take_over)
                thread.start()
                thread.join()
            if stage == "write":
                written.append(Tenancy.objects.count())

        return real(**{**kwargs, "progress": progress})

    monkeypatch.setattr(cohort, "cohort_import", stalled)
    ended = services.cohort_import_run(import_id=commit.pk)
    assert "error" not in other, other
    assert ended == CohortImport.State.RUNNING
    assert max(written) == 20  # it wrote every row before it found out
    commit.refresh_from_db()
    assert (commit.state, commit.run_id) == (CohortImport.State.RUNNING, other["run"].run_id)
    assert not Tenancy.objects.exists()
    assert not commit.committed and commit.counts is None


@pytest.mark.django_db
def test_a_job_whose_file_was_pruned_fails_with_a_reason():
    preview = queued()
    ImportFile.objects.filter(pk=preview.file_id).update(content=b"")
    assert services.cohort_import_run(import_id=preview.pk) == CohortImport.State.FAILED
    preview.refresh_from_db()
    assert "inte längre kvar" in preview.error


@pytest.mark.django_db
def test_files_and_their_jobs_are_forgotten_after_the_days_set(settings):
    settings.COHORT_IMPORT_DAYS = 7
    old, new = CohortImportFactory(), CohortImportFactory()
    ImportFile.objects.filter(pk=old.file_id).update(uploaded_at=ago(8 * 24 * 3600))
    assert services.cohort_import_prune() == 1
    assert list(CohortImport.objects.values_list("pk", flat=True)) == [new.pk]


def test_beat_sweeps_and_prunes_import_jobs(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reports.sweep_unsent", "reports.prune_cohort_imports"} <= tasks


# --- Access ----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_who_may_import_sees_a_job_its_status_and_its_errors(ss_client, sw_client):
    job = CohortImportFactory(with_errors=True)
    for client in (ss_client, sw_client):
        for url in (
            reverse("reports:cohort-import"),
            job.get_absolute_url(),
            reverse("reports:cohort-import-status", args=[job.pk]),
            reverse("reports:cohort-import-errors-csv", args=[job.pk]),
            reverse("reports:cohort-import-template-xlsx"),
        ):
            assert client.get(url).status_code == 403, url
        assert start(client, job).status_code == 403


@pytest.mark.django_db
def test_the_templates_download_with_the_swedish_headers(um_client):
    csv = um_client.get(reverse("reports:cohort-import-template-csv"))
    assert csv.status_code == 200
    header = csv.content.decode("utf-8-sig").splitlines()[0].split(";")
    xlsx = um_client.get(reverse("reports:cohort-import-template-xlsx"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert [cell.value for cell in next(sheet.iter_rows())] == header
    assert "Inflyttning" in header or "Inflyttningsdatum" in header


# --- A real worker on Redis (CI) ---------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_a_preview_and_an_import_run_through_a_real_worker(
    transactional_db, role_groups, unit_manager
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker thread needs a database shared across connections (PostgreSQL)")
    from celery.contrib.testing.worker import start_worker

    url = os.environ["TEST_REDIS_URL"]
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)

    def wait(job) -> CohortImport:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.finished:
                break
            time.sleep(0.2)
        return job

    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            preview = services.cohort_import_order(
                data=HELSINGBORG.read_bytes(), filename="kohort.csv", acting_user=unit_manager
            )
            assert wait(preview).state == CohortImport.State.DONE, preview.error
            assert preview.sent_to_broker and preview.done == 20
            assert not Tenancy.objects.exists()
            commit = services.cohort_import_start(preview=preview, acting_user=unit_manager)
            assert wait(commit).state == CohortImport.State.DONE, commit.error
        assert commit.committed and Tenancy.objects.count() == 20
    finally:
        use_celery(**old)


# The worker for the test below: a real one that has written every row of the
# import (inside its transaction) and then hangs before it stores the result.
HANGING_WORKER = """
import sys, time
import django
django.setup()
from reports import services
def hang(result):
    time.sleep(600)
services._result_fields = hang
from bostadforst.celery import app
app.worker_main(["worker", "-P", "solo", "-Q", sys.argv[1], "-n", sys.argv[1] + "@%h",
                 "--without-mingle", "--without-gossip", "--without-heartbeat",
                 "--loglevel", "WARNING"])
"""


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_an_import_whose_worker_is_killed_is_sent_again_and_imports_once(
    transactional_db, role_groups, unit_manager, tmp_path, settings
):
    """Issue 13: the import survives a worker restart. The worker has written
    every row and beats while it hangs; it is killed before its transaction
    commits, so nothing stays; the sweep sends the job again once its
    heartbeat is stale, and the file is imported once."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the test database (PostgreSQL)")
    preview = CohortImportFactory(ordered_by=unit_manager)
    commit = CohortImport.objects.create(
        file=preview.file,
        mode=CohortImport.Mode.COMMIT,
        preview=preview,
        ordered_by=unit_manager,
        sent_to_broker=True,
    )
    with killable_worker(tmp_path, HANGING_WORKER, name="importkill") as (queue, log, worker):
        run_cohort_import.apply_async(args=[commit.pk], queue=queue)
        beats = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            commit.refresh_from_db()
            if commit.state == CohortImport.State.RUNNING and commit.done == 20:
                beats.add(commit.heartbeat_at)  # every row written, still beating
            if len(beats) >= 3:
                break
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:]
    assert len(beats) >= 3, f"the worker did not write and beat:\n{tail}"
    assert not Tenancy.objects.exists()  # the killed worker's transaction is gone
    settings.REPORT_HEARTBEAT_TIMEOUT = 1
    time.sleep(1.5)  # the dead worker's last beat is now stale
    # The broker is the in-process one now: the sweep's send imports here.
    assert services.cohort_import_sweep_unsent(grace=timedelta(0)) == 1
    commit.refresh_from_db()
    assert (commit.state, commit.committed) == (CohortImport.State.DONE, True), commit.error
    assert Tenancy.objects.count() == 20
    assert Tenancy.history.count() == 20  # written once


# --- The file, a chunk at a time ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 21, 22])
def test_the_job_copies_the_file_out_of_the_database_a_chunk_at_a_time(monkeypatch, size):
    """Chunks of 7 bytes: every byte once, in order, whatever the size is
    against the chunk (below, at, past, a multiple); each chunk a query."""
    from reports import models

    monkeypatch.setattr(models, "CONTENT_CHUNK", 7)
    content = bytes(range(256))[:size] if size else b""
    stored = ImportFile.objects.create(filename="kohort.csv", size=size, content=content)
    out = io.BytesIO()
    queries = CaptureQueriesContext(connection)
    with queries:
        written = stored.copy_content(out)
    assert written == size and out.getvalue() == content
    assert len(queries) == size // 7 + 1
