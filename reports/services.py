"""Writes of the reports app: ordering report jobs, running them, and the
transactional outbox that makes an order survive a broker outage.

Ordering (``report_order``) commits the ``Report`` row first and hands the
task to the broker after the commit (``transaction.on_commit``), passing only
the report's id. ``sent_to_broker`` stays False until the broker took the
message, so an order placed while Redis is down is committed and later sent by
``report_sweep_unsent`` (every minute from beat, and when a worker starts).
A report is rendered at most once: ``report_run`` claims the row with a
conditional UPDATE (queued → running) before doing any work.

A running job beats: a thread writes ``heartbeat_at`` every
``REPORT_HEARTBEAT_INTERVAL`` seconds while it computes and renders. A job
whose heartbeat is older than ``REPORT_HEARTBEAT_TIMEOUT`` died with its
worker, and the sweep puts it back in the outbox (one conditional UPDATE, so
a job that beat in the meantime is left alone). Every write of a run is
conditional on the ``run_id`` its claim wrote, so a worker that was only
stalled and wakes after its job was handed on stores nothing: the report is
stored once, by the run that holds it.

Imports run one way: ``tasks.py`` imports this module and stays a thin
wrapper; this module queues the job by its task name (``GENERATE_TASK``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from bostadforst.celery import Heartbeat, task_by_name

from . import retention
from .models import Report

logger = logging.getLogger(__name__)

# Errors worth another attempt: the database went away or was locked.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Orders younger than this are left to their own on_commit send.
SWEEP_GRACE = timedelta(seconds=30)
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
    settings (short timeouts, one retry), so a request is not held up; the
    task keeps no result (``ignore_result``), so sending it does not wait on
    the result backend's reconnects either.
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

    A running job whose heartbeat is stale died with its worker. Its message
    is re-delivered (acks_late) only after Redis' visibility timeout, hours
    later, if at all, so it goes back to the outbox here and is sent again.
    The stale test is part of the UPDATE's WHERE: a worker that beats between
    the sweep's look and its write keeps its job, and one that beats after
    finds its run gone (see ``report_run``).
    """
    now = timezone.now()
    lost = Report.objects.filter(_stale_running(now)).update(
        state=Report.State.QUEUED,
        started_at=None,
        heartbeat_at=None,
        run_id=None,
        sent_to_broker=False,
    )
    if lost:
        logger.warning(
            "%s report job(s) without a heartbeat for %ss: sent again",
            lost,
            settings.REPORT_HEARTBEAT_TIMEOUT,
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


def _stale_running(now: datetime) -> Q:
    """Running jobs whose worker has not beaten for ``REPORT_HEARTBEAT_TIMEOUT``.

    A row claimed before heartbeats existed has none: its start counts.
    """
    cutoff = now - timedelta(seconds=settings.REPORT_HEARTBEAT_TIMEOUT)
    no_beat = Q(heartbeat_at__isnull=True) & (Q(started_at__lt=cutoff) | Q(started_at__isnull=True))
    return Q(state=Report.State.RUNNING) & (Q(heartbeat_at__lt=cutoff) | no_beat)


def _claim(report_id: int) -> tuple[Report, uuid.UUID] | None:
    """Move the order from queued (or stale running) to running under a new
    run id; None if it is not ours to run."""
    now = timezone.now()
    run_id = uuid.uuid4()
    run = {
        "state": Report.State.RUNNING,
        "run_id": run_id,
        "started_at": now,
        "heartbeat_at": now,
        "error": "",
    }
    claimed = Report.objects.filter(pk=report_id, state=Report.State.QUEUED).update(**run)
    if not claimed:
        # A worker that died mid-job leaves the row running; acks_late
        # re-delivers the message, and the job is taken over once stale.
        claimed = Report.objects.filter(_stale_running(now), pk=report_id).update(**run)
    if not claimed:
        return None
    return Report.objects.get(pk=report_id), run_id


def _this_run(report_id: int, run_id: uuid.UUID):
    """The row, while run ``run_id`` still holds it."""
    return Report.objects.filter(pk=report_id, state=Report.State.RUNNING, run_id=run_id)


def _state(report_id: int) -> str:
    state = Report.objects.filter(pk=report_id).values_list("state", flat=True).first()
    return Report.State(state) if state else MISSING


def report_figures(*, as_of: date, months: int, filters: dict) -> dict:
    """The stored figures of a report: the computation, the trend and the survival curve."""
    data = retention.load(until=as_of)
    figures = retention.compute(as_of=as_of, months=months, filters=filters, data=data)
    figures["trend"] = retention.trend(data, as_of=as_of, months=months, filters=filters)
    figures["survival"] = retention.survival(data, as_of=as_of, filters=filters)
    return figures


def report_run(*, report_id: int) -> str:
    """Compute and render the report once; returns the state it ends in.

    Transient database errors propagate after the run is put back in the
    queue (the task retries them); any other error is recorded on the row as
    the reason for failure, never lost. A run that the sweep took away (no
    heartbeat for too long) stops at its next step and stores nothing.
    """
    claimed = _claim(report_id)
    if claimed is None:
        return _state(report_id)
    report, run_id = claimed

    def beat() -> bool:
        return bool(_this_run(report_id, run_id).update(heartbeat_at=timezone.now()))

    try:
        from .pdf import render_report_pdf
        from .presentation import report_context

        with Heartbeat(
            beat, interval=settings.REPORT_HEARTBEAT_INTERVAL, name=f"report {report_id}"
        ) as heartbeat:
            figures = report_figures(
                as_of=report.as_of, months=report.months, filters=report.filters
            )
            if heartbeat.lost:
                return _taken_over(report_id, run_id)
            pdf = render_report_pdf(context=report_context(report=report, figures=figures))
    except TRANSIENT_ERRORS:
        report_requeue(report_id=report_id, run_id=run_id)
        raise
    except Exception as exc:  # recorded, not swallowed: the page shows the reason
        logger.exception("report %s failed", report_id)
        report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}", run_id=run_id)
        return Report.State.FAILED
    # The file is written first and the row then points at it, only if this
    # run still holds the job; otherwise the file is removed again.
    name = f"bostad-forst-{report.as_of:%Y-%m-%d}-{report.pk}.pdf"
    report.pdf.save(name, ContentFile(pdf), save=False)
    try:
        stored = _this_run(report_id, run_id).update(
            state=Report.State.DONE,
            figures=figures,
            pdf=report.pdf.name,
            finished_at=timezone.now(),
            error="",
        )
    except TRANSIENT_ERRORS:
        report.pdf.delete(save=False)
        report_requeue(report_id=report_id, run_id=run_id)
        raise
    if not stored:
        report.pdf.delete(save=False)
        return _taken_over(report_id, run_id)
    return Report.State.DONE


def _taken_over(report_id: int, run_id: uuid.UUID) -> str:
    logger.warning(
        "report %s: run %s lost its job to another run; nothing stored", report_id, run_id
    )
    return _state(report_id)


def report_requeue(*, report_id: int, run_id: uuid.UUID) -> None:
    """Put run ``run_id`` back in the queue before a retry, so the retry can claim it.

    Its message is on its way (the retry), so the order stays marked as sent.
    If the database cannot be reached the row stays running, and the sweep
    sends it again once its heartbeat is stale.
    """
    try:
        _this_run(report_id, run_id).update(
            state=Report.State.QUEUED, started_at=None, heartbeat_at=None, run_id=None
        )
    except DatabaseError:
        logger.error("report %s could not be put back in the queue", report_id)


def report_fail(*, report_id: int, reason: str, run_id: uuid.UUID | None = None) -> None:
    """Record why the job failed: for run ``run_id`` while it holds the job,
    or without a run id (the last retry gave up) while no run holds it."""
    rows = (
        _this_run(report_id, run_id)
        if run_id
        else Report.objects.filter(pk=report_id, state=Report.State.QUEUED)
    )
    try:
        rows.update(state=Report.State.FAILED, error=reason[:2000], finished_at=timezone.now())
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
