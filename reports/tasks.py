"""Celery tasks of the reports app: thin wrappers that take ids, never names,
personnummer or notes (task arguments end up in broker and worker logs)."""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready

from . import services
from .models import Report

logger = logging.getLogger(__name__)


# No task result is kept: the Report row is the result. Sending a task whose
# result is kept first subscribes to the result backend, which is another
# wait when Redis is down (settings, "Celery").
@shared_task(
    bind=True, name=services.GENERATE_TASK, max_retries=3, acks_late=True, ignore_result=True
)
def generate_report(self, report_id: int) -> str:
    """Compute and render report ``report_id`` (idempotent: once per id)."""
    try:
        return services.report_run(report_id=report_id)
    except services.TRANSIENT_ERRORS as exc:
        # report_run has put the job back in the queue for the retry.
        if self.request.retries >= self.max_retries:
            services.report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}")
            return Report.State.FAILED
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@shared_task(name="reports.sweep_unsent", ignore_result=True)
def sweep_unsent() -> int:
    """Send report orders that never reached the broker (it was down) and
    re-send jobs whose worker died (no heartbeat)."""
    return services.report_sweep_unsent()


@shared_task(name="reports.monthly", ignore_result=True)
def order_monthly_report() -> int | None:
    """Order the monthly report (as of the end of the previous month)."""
    report = services.report_order_monthly()
    return report.pk if report else None


@worker_ready.connect
def _sweep_on_worker_start(**kwargs) -> None:
    """Orders left unsent while no worker or broker was up are sent at start."""
    try:
        services.report_sweep_unsent(grace=timedelta(0))
    except Exception:  # a worker must start even if the sweep cannot run
        logger.exception("sweep of unsent report orders failed at worker start")
