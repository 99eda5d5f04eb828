"""Writes of the reports app: report jobs and cohort import jobs.

Both kinds are background jobs through ``bostadforst.jobs``: the order is
committed first and its task handed to the broker after the commit, passing
only the row's id; a job left unsent (broker down) or whose worker died (no
heartbeat) is sent again by the sweep (``report_sweep_unsent`` and
``cohort_import_sweep_unsent``, every minute from beat and when a worker
starts); a job runs once, claimed
under a run id, and only the run that holds it stores its result.

* Reports: ``report_order`` → ``report_run`` computes the figures and renders
  the PDF.
* Cohort imports: ``cohort_import_order`` keeps the uploaded file and queues
  its preview (everything checked, nothing written); ``cohort_import_start``
  queues the import of the same file after a preview without errors, at most
  once per preview. ``cohort_import_run`` runs either through
  ``reports.cohort.cohort_import`` with its progress noted for the page.

Imports run one way: ``tasks.py`` imports this module and stays a thin
wrapper; this module queues the jobs by their task names (``GENERATE_TASK``,
``IMPORT_TASK``).
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

# MISSING and TRANSIENT_ERRORS: what a run answers for a deleted job and the
# errors its task retries, named here for the tasks and their tests.
from bostadforst.jobs import MISSING, SWEEP_GRACE, TRANSIENT_ERRORS, JobQueue, Run  # noqa: F401
from bostadforst.registry import board_report_sections
from bostadforst.scope import filter_limits, narrowed

from . import outcomes, retention, time_to_event
from .models import CohortImport, ImportFile, Report
from .presentation import filter_labels

logger = logging.getLogger(__name__)

# The Celery task that runs ``report_run`` (reports.tasks.generate_report).
GENERATE_TASK = "reports.generate"
# The Celery task that runs ``cohort_import_run`` (reports.tasks.run_cohort_import).
IMPORT_TASK = "reports.cohort_import"

REPORT_JOBS = JobQueue(Report, task=GENERATE_TASK, name="report")
IMPORT_JOBS = JobQueue(CohortImport, task=IMPORT_TASK, name="cohort import")


@transaction.atomic
def report_order(
    *,
    as_of: date,
    months: int = 0,
    filters: dict | None = None,
    title: str = "",
    acting_user=None,
    scheduled: bool = False,
) -> Report:
    """Store a report order and queue its job once the order is committed."""
    report = Report(
        as_of=as_of,
        months=months,
        filters={k: v for k, v in (filters or {}).items() if v not in ("", None)},
        title=title,
        ordered_by=acting_user,
        scheduled=scheduled,
    )
    report.full_clean()
    report.save()
    report_id = report.pk
    transaction.on_commit(lambda: report_send(report_id=report_id))
    return report


def report_send(*, report_id: int) -> bool:
    """Hand the job to the broker; on success mark the order sent (never raises)."""
    return REPORT_JOBS.send(report_id)


def report_sweep_unsent(*, grace: timedelta = SWEEP_GRACE) -> int:
    """Send every queued order the broker never received, and again every
    running job whose worker stopped beating; returns how many were sent."""
    return REPORT_JOBS.sweep(grace=grace)


def _claim(report_id: int) -> tuple[Report, uuid.UUID] | None:
    """Move the order to running under a new run id; None if it is not ours to run."""
    run = REPORT_JOBS.claim(report_id)
    return None if run is None else (run.job, run.run_id)


def report_figures(*, as_of: date, months: int, filters: dict) -> dict:
    """The stored figures of a report: the computation, the trend, the three
    Kaplan–Meier curves (tenancy survival, waiting time, time to takeover),
    the cohort's outcomes from move-in to 12 and 24 months (two queries) and
    the sections higher apps add through ``board_report_sources`` (the team's
    fidelity score: three queries). All of it aggregate and JSON-safe."""
    data = retention.load(until=as_of)
    figures = retention.compute(as_of=as_of, months=months, filters=filters, data=data)
    figures["trend"] = retention.trend(data, as_of=as_of, months=months, filters=filters)
    figures["survival"] = retention.survival(data, as_of=as_of, filters=filters)
    time_to_event.add_time_to_event(figures, data, as_of=as_of, filters=filters)
    # Like the dashboard's, the outcomes are the whole cohort's: the retention
    # filters (landlord, contract type, move-in year, target group) do not
    # apply to them (the PDF says so when one is set).
    figures["outcomes"] = outcomes.outcome_figures(as_of=as_of)
    # The sections' text is stored with the figures, in the report's language.
    with translation.override("sv"):
        figures["board_sections"] = [
            asdict(section) for section in board_report_sections(as_of=as_of)
        ]
        # Which people the figures are of, named on the PDF's first page.
        figures["filter_labels"] = filter_labels(filters)
    return figures


def report_run(*, report_id: int) -> str:
    """Compute and render the report once; returns the state it ends in.

    Transient database errors propagate after the run is put back in the
    queue (the task retries them); any other error is recorded on the row as
    the reason for failure, never lost. A run that the sweep took away (no
    heartbeat for too long) stops at its next step and stores nothing.
    """
    return REPORT_JOBS.run(report_id, _render)


def _render(run: Run) -> str:
    from .pdf import render_report_pdf
    from .presentation import report_context

    report = run.job
    # Run without the orderer: the unit and provider they filtered by, and
    # their own row scope, come with the order's filters (bostadforst.scope).
    with narrowed(filter_limits(report.filters)):
        figures = report_figures(as_of=report.as_of, months=report.months, filters=report.filters)
    if run.lost:
        return run.taken_over()
    pdf = render_report_pdf(context=report_context(report=report, figures=figures))
    # The file is written first and the row then points at it, only if this
    # run still holds the job; otherwise the file is removed again.
    name = f"bostad-forst-{report.as_of:%Y-%m-%d}-{report.pk}.pdf"
    report.pdf.save(name, ContentFile(pdf), save=False)
    try:
        stored = run.finish(figures=figures, pdf=report.pdf.name)
    except BaseException:
        report.pdf.delete(save=False)
        raise
    if not stored:
        report.pdf.delete(save=False)
        return run.taken_over()
    return Report.State.DONE


def report_requeue(*, report_id: int, run_id: uuid.UUID) -> None:
    """Put run ``run_id`` back in the queue before a retry (see ``JobQueue.requeue``)."""
    REPORT_JOBS.requeue(report_id, run_id=run_id)


def report_fail(*, report_id: int, reason: str, run_id: uuid.UUID | None = None) -> None:
    """Record why the job failed (see ``JobQueue.fail``)."""
    REPORT_JOBS.fail(report_id, reason=reason, run_id=run_id)


def previous_month_end(today: date) -> date:
    return today.replace(day=1) - relativedelta(days=1)


def report_order_monthly(*, today: date | None = None) -> Report | None:
    """The monthly scheduled report, as of the end of the previous month (once per month)."""
    today = today or timezone.localdate()
    as_of = previous_month_end(today)
    if Report.objects.filter(scheduled=True, as_of=as_of, months=0).exists():
        return None
    return report_order(as_of=as_of, months=0, scheduled=True, acting_user=None)


# --- Cohort import jobs -----------------------------------------------------------

# The names of ImportResult's counts, stored on the job as they are.
IMPORT_COUNTS = (
    "rows",
    "participants_created",
    "participants_updated",
    "landlords_created",
    "apartments_created",
    "tenancies_created",
    "tenancies_updated",
    "tenancies_unchanged",
)

START_REFUSED = {
    "not_preview": gettext_lazy("Only a checked file can be imported."),
    "not_done": gettext_lazy("The check of the file has not finished."),
    "errors": gettext_lazy("The file has errors: correct it and upload it again."),
    "no_changes": gettext_lazy("The file changes nothing: it has already been imported."),
    "started": gettext_lazy("The import of this file has already been started."),
    "file_gone": gettext_lazy("The file is no longer kept: upload it again."),
}


@transaction.atomic
def cohort_import_order(*, data: bytes, filename: str, acting_user=None) -> CohortImport:
    """Keep the uploaded file and queue its preview once both are committed."""
    upload = ImportFile(
        uploaded_by=acting_user, filename=filename[:255], size=len(data), content=data
    )
    upload.full_clean(exclude=["content"])
    upload.save()
    job = CohortImport.objects.create(
        file=upload, mode=CohortImport.Mode.PREVIEW, ordered_by=acting_user
    )
    job_id = job.pk
    transaction.on_commit(lambda: IMPORT_JOBS.send(job_id))
    return job


@transaction.atomic
def cohort_import_start(*, preview: CohortImport, acting_user=None) -> CohortImport:
    """Queue the import of the file ``preview`` checked; raises ValidationError
    (with a code of ``START_REFUSED``) when it may not be imported.

    The preview's row is locked while this looks, and the import's
    one-to-one link to its preview is unique in the database: two clicks in
    two tabs start one import, the second is refused.
    """
    preview = CohortImport.objects.select_for_update().get(pk=preview.pk)

    def refuse(code: str):
        return ValidationError(START_REFUSED[code], code=code)

    if preview.mode != CohortImport.Mode.PREVIEW:
        raise refuse("not_preview")
    if preview.state != CohortImport.State.DONE:
        raise refuse("not_done")
    if preview.error_count:
        raise refuse("errors")
    if CohortImport.objects.filter(preview=preview).exists():
        raise refuse("started")
    if not preview.changes:
        raise refuse("no_changes")
    if not ImportFile.objects.filter(pk=preview.file_id).exclude(content=b"").exists():
        raise refuse("file_gone")
    job = CohortImport.objects.create(
        file_id=preview.file_id,
        mode=CohortImport.Mode.COMMIT,
        preview=preview,
        ordered_by=acting_user,
        total=preview.total,
    )
    job_id = job.pk
    transaction.on_commit(lambda: IMPORT_JOBS.send(job_id))
    return job


def cohort_import_sweep_unsent(*, grace: timedelta = SWEEP_GRACE) -> int:
    """Send the import jobs the broker never received, and again those whose
    worker stopped beating; returns how many were sent."""
    return IMPORT_JOBS.sweep(grace=grace)


def cohort_import_run(*, import_id: int) -> str:
    """Run the preview or the import once; returns the state it ends in.

    The job beats every ``COHORT_IMPORT_PROGRESS_INTERVAL`` seconds, and each
    beat writes the progress ``cohort_import`` last reported (rows checked,
    rows written) through the heartbeat's own connection, so the page sees it
    while the import's transaction is still open.
    """
    return IMPORT_JOBS.run(import_id, _import, interval=settings.COHORT_IMPORT_PROGRESS_INTERVAL)


class _TakenOver(Exception):
    """Raised inside the import's transaction to undo it: the job is another run's."""


def _import(run: Run) -> str:
    job: CohortImport = run.job
    # The file goes from its column to a temporary file (unnamed, removed
    # when closed) a chunk at a time, and the import reads it from there as
    # it goes: the job never holds the file whole.
    with tempfile.TemporaryFile() as file:
        if not job.file.copy_content(file):
            IMPORT_JOBS.fail(job.pk, reason=str(START_REFUSED["file_gone"]), run_id=run.run_id)
            return CohortImport.State.FAILED
        return _import_file(run, file)


def _import_file(run: Run, file) -> str:
    from .cohort import cohort_import

    job: CohortImport = run.job

    def progress(stage: str, done: int, total: int | None) -> None:
        run.note(stage=stage, done=done, total=total)

    arguments = {
        "data": file,
        "filename": job.file.filename,
        "acting_user": job.ordered_by,
        "progress": progress,
    }
    if not job.is_commit:
        result = cohort_import(commit=False, **arguments)
        if not run.finish(**_result_fields(result)):
            return run.taken_over()
        return CohortImport.State.DONE
    # The import and the job's result commit together, and only while this
    # run holds the job: a run the sweep handed on (its worker stalled past
    # the heartbeat timeout) rolls its import back, and a worker killed
    # mid-import leaves nothing behind, so the run that follows imports the
    # file once. The import's own transaction becomes a savepoint here.
    try:
        with transaction.atomic():
            result = cohort_import(commit=True, **arguments)
            if not run.finish(**_result_fields(result)):
                raise _TakenOver
            if result.committed:
                # Imported: the file's personal data is not kept any longer.
                ImportFile.objects.filter(pk=job.file_id).update(content=b"")
    except _TakenOver:
        return run.taken_over()
    return CohortImport.State.DONE


def _result_fields(result) -> dict:
    """The job's columns for an ``ImportResult``."""
    return {
        "source": result.source[:200],
        "counts": {name: getattr(result, name) for name in IMPORT_COUNTS},
        "row_errors": [
            {"line": error.line, "sheet": error.sheet, "message": str(error.message)}
            for error in result.errors
        ],
        "error_count": len(result.errors),
        "committed": result.committed,
    }


def cohort_import_prune(*, now: datetime | None = None) -> int:
    """Forget uploaded files, with their jobs and errors (which quote the
    file), older than ``COHORT_IMPORT_DAYS``; returns how many files."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.COHORT_IMPORT_DAYS)
    stale = ImportFile.objects.filter(uploaded_at__lt=cutoff)
    # A job still running (days late) keeps its file until it ends.
    stale = stale.exclude(jobs__state=CohortImport.State.RUNNING)
    deleted, per_model = stale.delete()
    return per_model.get(ImportFile._meta.label, 0)
