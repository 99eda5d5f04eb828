"""Celery tasks of the reports app: thin wrappers that take ids, never names,
personnummer or notes (task arguments end up in broker and worker logs)."""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready

from bostadforst.jobs import job_task_run

from . import extract, research_export, services

logger = logging.getLogger(__name__)


# No task result is kept: the job's row is the result. Sending a task whose
# result is kept first subscribes to the result backend, which is another
# wait when Redis is down (settings, "Celery").
@shared_task(
    bind=True, name=services.GENERATE_TASK, max_retries=3, acks_late=True, ignore_result=True
)
def generate_report(self, report_id: int) -> str:
    """Compute and render report ``report_id`` (idempotent: once per id)."""
    return job_task_run(
        services.REPORT_JOBS,
        self,
        report_id,
        lambda: services.report_run(report_id=report_id),
    )


@shared_task(
    bind=True, name=services.IMPORT_TASK, max_retries=3, acks_late=True, ignore_result=True
)
def run_cohort_import(self, import_id: int) -> str:
    """Preview or import cohort import job ``import_id`` (once per id)."""
    return job_task_run(
        services.IMPORT_JOBS,
        self,
        import_id,
        lambda: services.cohort_import_run(import_id=import_id),
    )


@shared_task(
    bind=True, name=extract.EXTRACT_TASK, max_retries=3, acks_late=True, ignore_result=True
)
def make_register_extract(self, extract_id: int) -> str:
    """Collect and render register extract ``extract_id`` (once per id). The
    id is all it is given: the person is read from the job's row."""
    return job_task_run(
        extract.EXTRACT_JOBS,
        self,
        extract_id,
        lambda: extract.register_extract_run(extract_id=extract_id),
    )


@shared_task(
    bind=True,
    name=research_export.EXPORT_TASK,
    max_retries=3,
    acks_late=True,
    ignore_result=True,
)
def make_research_export(self, export_id: int) -> str:
    """Write research export ``export_id`` (once per id); the job's row holds
    the derived key, never the task's arguments."""
    return job_task_run(
        research_export.EXPORT_JOBS,
        self,
        export_id,
        lambda: research_export.research_export_run(export_id=export_id),
    )


@shared_task(name="reports.sweep_unsent", ignore_result=True)
def sweep_unsent() -> int:
    """Send report, import and register extract jobs that never reached the
    broker (it was down) and re-send those whose worker died (no heartbeat)."""
    return (
        services.report_sweep_unsent()
        + services.cohort_import_sweep_unsent()
        + extract.register_extract_sweep_unsent()
        + research_export.research_export_sweep_unsent()
    )


@shared_task(name="reports.monthly", ignore_result=True)
def order_monthly_report() -> int | None:
    """Order the monthly report (as of the end of the previous month)."""
    report = services.report_order_monthly()
    return report.pk if report else None


@shared_task(name="reports.prune_cohort_imports", ignore_result=True)
def prune_cohort_imports() -> int:
    """Forget uploaded import files and their jobs older than
    COHORT_IMPORT_DAYS (daily, from beat); returns how many files."""
    return services.cohort_import_prune()


@shared_task(name="reports.data_quality_snapshot", ignore_result=True)
def data_quality_snapshot() -> int:
    """Store today's data-quality score (again the same day: replaced)."""
    from .data_quality import snapshot_today

    return snapshot_today().pk


@worker_ready.connect
def _sweep_on_worker_start(**kwargs) -> None:
    """Jobs left unsent while no worker or broker was up are sent at start."""
    try:
        services.report_sweep_unsent(grace=timedelta(0))
        services.cohort_import_sweep_unsent(grace=timedelta(0))
        extract.register_extract_sweep_unsent(grace=timedelta(0))
        research_export.research_export_sweep_unsent(grace=timedelta(0))
    except Exception:  # a worker must start even if the sweep cannot run
        logger.exception("sweep of unsent jobs failed at worker start")
