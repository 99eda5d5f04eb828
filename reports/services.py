"""Writes of the reports app: ordering report jobs, running them, and the
transactional outbox that makes an order survive a broker outage.

Ordering (``report_order``) commits the ``Report`` row first and hands the
task to the broker after the commit (``transaction.on_commit``), passing only
the report's id. ``sent_to_broker`` stays False until the broker took the
message, so an order placed while Redis is down is committed and later sent by
``report_sweep_unsent`` (every minute from beat, and when a worker starts).
A report is rendered at most once: ``report_run`` claims the row with a
conditional UPDATE (queued → running) before doing any work.

Imports run one way: ``tasks.py`` imports this module and stays a thin
wrapper; this module queues the job by its task name (``GENERATE_TASK``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from bostadforst.celery import task_by_name

from . import retention
from .models import Report

logger = logging.getLogger(__name__)

# Errors worth another attempt: the database went away or was locked.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Orders younger than this are left to their own on_commit send.
SWEEP_GRACE = timedelta(seconds=30)
# A running job older than this is taken to have died with its worker.
STALE_RUNNING = timedelta(hours=1)
# The Celery task that runs ``report_run`` (reports.tasks.generate_report).
GENERATE_TASK = "reports.generate"
# What ``report_run`` answers for an id with no row (deleted after the order).
MISSING = "missing"


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
    """Hand the job to the broker; on success mark the order sent.

    Never raises: with the broker down the order stays unsent and the sweep
    sends it later. Publishing is bounded by the broker transport options in
    settings (short timeouts, one retry), so a request is not held up.
    """
    try:
        task_by_name(GENERATE_TASK).apply_async(args=[report_id], retry=False)
    except Exception:  # kombu raises many kinds (OperationalError, OSError …)
        logger.warning(
            "report %s: broker unavailable; left for the sweep", report_id, exc_info=True
        )
        return False
    Report.objects.filter(pk=report_id).update(sent_to_broker=True)
    return True


def report_sweep_unsent(*, grace: timedelta = SWEEP_GRACE) -> int:
    """Send every queued order the broker never received; returns how many were sent.

    A job left running longer than ``STALE_RUNNING`` died with its worker; if
    its message is not re-delivered (or arrives before the job counts as
    stale and is dropped by ``_claim``) nothing else would ever finish it, so
    it goes back to the outbox here and is sent again.
    """
    now = timezone.now()
    Report.objects.filter(state=Report.State.RUNNING, started_at__lt=now - STALE_RUNNING).update(
        state=Report.State.QUEUED, started_at=None, sent_to_broker=False
    )
    cutoff = now - grace
    ids = list(
        Report.objects.filter(
            sent_to_broker=False, state=Report.State.QUEUED, ordered_at__lte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for report_id in ids:
        if not report_send(report_id=report_id):
            break  # the broker is still down; the next sweep tries again
        sent += 1
    return sent


def _claim(report_id: int) -> Report | None:
    """Move the order from queued (or stale running) to running; None if not ours."""
    now = timezone.now()
    claimed = Report.objects.filter(pk=report_id, state=Report.State.QUEUED).update(
        state=Report.State.RUNNING, started_at=now, error=""
    )
    if not claimed:
        # A worker that died mid-job leaves the row running; acks_late
        # re-delivers the message, and the job may be taken over after a while.
        claimed = Report.objects.filter(
            pk=report_id, state=Report.State.RUNNING, started_at__lt=now - STALE_RUNNING
        ).update(started_at=now, error="")
    if not claimed:
        return None
    return Report.objects.get(pk=report_id)


def report_figures(*, as_of: date, months: int, filters: dict) -> dict:
    """The stored figures of a report: the computation, the trend and the survival curve."""
    data = retention.load(until=as_of)
    figures = retention.compute(as_of=as_of, months=months, filters=filters, data=data)
    figures["trend"] = retention.trend(data, as_of=as_of, months=months, filters=filters)
    figures["survival"] = retention.survival(data, as_of=as_of, filters=filters)
    return figures


def report_run(*, report_id: int) -> str:
    """Compute and render the report once; returns the state it ends in.

    Transient database errors propagate (the task retries them, after
    ``report_requeue``); any other error is recorded on the row as the reason
    for failure, never lost.
    """
    report = _claim(report_id)
    if report is None:
        state = Report.objects.filter(pk=report_id).values_list("state", flat=True).first()
        return Report.State(state) if state else MISSING
    try:
        from .pdf import render_report_pdf
        from .presentation import report_context

        figures = report_figures(as_of=report.as_of, months=report.months, filters=report.filters)
        pdf = render_report_pdf(context=report_context(report=report, figures=figures))
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # recorded, not swallowed: the page shows the reason
        logger.exception("report %s failed", report_id)
        report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}")
        return Report.State.FAILED
    report.pdf.save(
        f"bostad-forst-{report.as_of:%Y-%m-%d}-{report.pk}.pdf", ContentFile(pdf), save=False
    )
    Report.objects.filter(pk=report_id, state=Report.State.RUNNING).update(
        state=Report.State.DONE,
        figures=figures,
        pdf=report.pdf.name,
        finished_at=timezone.now(),
        error="",
    )
    return Report.State.DONE


def report_requeue(*, report_id: int) -> None:
    """Put a running job back in the queue before a retry, so the retry can claim it."""
    Report.objects.filter(pk=report_id, state=Report.State.RUNNING).update(
        state=Report.State.QUEUED, started_at=None
    )


def report_fail(*, report_id: int, reason: str) -> None:
    try:
        Report.objects.filter(pk=report_id).exclude(state=Report.State.DONE).update(
            state=Report.State.FAILED, error=reason[:2000], finished_at=timezone.now()
        )
    except DatabaseError:  # the database itself is down: the log keeps the reason
        logger.error("report %s failed and could not be marked: %s", report_id, reason[:200])


def previous_month_end(today: date) -> date:
    return today.replace(day=1) - relativedelta(days=1)


def report_order_monthly(*, today: date | None = None) -> Report | None:
    """The monthly scheduled report, as of the end of the previous month (once per month)."""
    today = today or timezone.localdate()
    as_of = previous_month_end(today)
    if Report.objects.filter(scheduled=True, as_of=as_of, months=0).exists():
        return None
    return report_order(as_of=as_of, months=0, scheduled=True, acting_user=None)
