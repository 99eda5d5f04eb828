"""Background jobs: the one outbox, claim, heartbeat and sweep every kind of
job goes through (report renders, cohort imports, and whatever comes next).

A job is a row of a model built on ``Job`` and a Celery task that takes the
row's id. ``JobQueue(model, task=…)`` holds the rules:

* **Outbox.** The service that orders a job commits the row first and calls
  ``send`` after the commit (``transaction.on_commit``). ``sent_to_broker``
  stays False until the broker took the message, so an order placed while
  Redis is down is committed and later sent by ``sweep`` (every minute from
  beat, and when a worker starts; PITFALLS #1 and #2).
* **Claim.** ``run`` moves the row from queued to running with a conditional
  UPDATE under a new ``run_id`` before any work, so a job runs once however
  often its message arrives (acks_late re-deliveries, PITFALLS #3).
* **Heartbeat.** While the work runs, a thread writes ``heartbeat_at`` (and
  whatever progress the work noted) every interval. A running job whose
  heartbeat is older than ``REPORT_HEARTBEAT_TIMEOUT`` died with its worker:
  the sweep puts it back in the outbox (one conditional UPDATE, so a job that
  beat in the meantime is left alone) and sends it again.
* **One run stores.** Every write of a run is conditional on its ``run_id``,
  so a worker that was only stalled and wakes after its job was handed on
  stores nothing.
* **Failure.** Transient database errors put the job back in the queue and
  propagate (the task retries them); any other error is recorded on the row
  as the reason for failure, never lost.

This module imports no app: the apps pass their model and task name in.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .celery import Heartbeat, task_by_name

logger = logging.getLogger(__name__)

# Errors worth another attempt: the database went away or was locked.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Orders younger than this are left to their own on_commit send.
SWEEP_GRACE = timedelta(seconds=30)
# What ``JobQueue.run`` answers for an id with no row (deleted after the order).
MISSING = "missing"


class Job(models.Model):
    """The fields every background job has: who ordered it, its state, the
    outbox flag, the run that holds it and its heartbeat."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ordered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ordered_at = models.DateTimeField(_("ordered"), auto_now_add=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED, db_index=True
    )
    # Outbox: False until the task has been handed to the broker; a periodic
    # sweep re-sends rows left unsent (broker down at order time).
    sent_to_broker = models.BooleanField(_("sent to the queue"), default=False, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # The run that holds a running job: set by the claim, and every write of
    # the run (heartbeat, result, failure) is conditional on it, so a run the
    # sweep has taken away can no longer change the row.
    run_id = models.UUIDField(_("run"), null=True, blank=True, editable=False)
    # Written every REPORT_HEARTBEAT_INTERVAL seconds (or more often) while
    # the job runs; a running job whose heartbeat is older than
    # REPORT_HEARTBEAT_TIMEOUT died with its worker and is sent again.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("reason for failure"), blank=True)

    class Meta:
        abstract = True

    @property
    def pending(self) -> bool:
        """Queued or running: the page follows it."""
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class Run:
    """One claimed run of a job: the row as claimed, its ``run_id``, and the
    writes that count only while the run still holds the job."""

    def __init__(self, queue: JobQueue, job: Job, run_id: uuid.UUID) -> None:
        self.queue = queue
        self.job = job
        self.run_id = run_id
        self.heartbeat: Heartbeat | None = None
        # Fields the next beat writes along with the heartbeat (progress). The
        # work swaps in a new dict; the beat thread reads whichever is current.
        self._noted: dict = {}

    def rows(self) -> models.QuerySet:
        """The row, while this run still holds it."""
        return self.queue.this_run(self.job.pk, self.run_id)

    def note(self, **fields) -> None:
        """Have the next beat write ``fields`` too (progress a page polls).

        The beat writes through its own database connection, so the page sees
        the progress even while the work holds a transaction open.
        """
        self._noted = {**self._noted, **fields}

    def beat(self) -> bool:
        """Write the heartbeat and the noted fields; False once the job is not ours."""
        return bool(self.rows().update(heartbeat_at=timezone.now(), **self._noted))

    @property
    def lost(self) -> bool:
        """True once a beat found the job handed to another run."""
        return self.heartbeat is not None and self.heartbeat.lost

    def finish(self, **fields) -> bool:
        """Store the result and mark the job done, if this run still holds it."""
        return bool(
            self.rows().update(
                state=Job.State.DONE,
                finished_at=timezone.now(),
                error="",
                **{**self._noted, **fields},
            )
        )

    def taken_over(self) -> str:
        """Log that the job went to another run; the state it is in now."""
        logger.warning(
            "%s %s: run %s lost its job to another run; nothing stored",
            self.queue.name,
            self.job.pk,
            self.run_id,
        )
        return self.queue.state(self.job.pk)


class JobQueue:
    """The outbox, claim, heartbeat, sweep, requeue and failure of one kind of job.

    ``model`` is built on ``Job``; ``task`` is the name of the Celery task
    that runs one job by id (queued by name: the tasks module imports the
    service that uses this, so an import the other way would be a circle).
    """

    def __init__(self, model: type[Job], *, task: str, name: str) -> None:
        self.model = model
        self.task = task
        self.name = name  # for log lines: "report", "cohort import"

    # --- Sending ------------------------------------------------------------------

    def send(self, pk: int) -> bool:
        """Hand the job to the broker; on success mark it sent.

        Never raises: with the broker down the job stays unsent and the sweep
        sends it later. Publishing is bounded by the broker transport options
        in settings (short timeouts, one retry), so a request is not held up;
        the tasks keep no result (``ignore_result``), so sending one does not
        wait on the result backend's reconnects either.
        """
        try:
            task_by_name(self.task).apply_async(args=[pk], retry=False)
        except Exception:  # kombu raises many kinds (OperationalError, OSError …)
            logger.warning(
                "%s %s: broker unavailable; left for the sweep", self.name, pk, exc_info=True
            )
            return False
        self.model.objects.filter(pk=pk).update(sent_to_broker=True)
        return True

    def sweep(self, *, grace: timedelta = SWEEP_GRACE) -> int:
        """Send every queued job the broker never received; returns how many were sent.

        A running job whose heartbeat is stale died with its worker. Its
        message is re-delivered (acks_late) only after Redis' visibility
        timeout, hours later, if at all, so it goes back to the outbox here
        and is sent again. The stale test is part of the UPDATE's WHERE: a
        worker that beats between the sweep's look and its write keeps its
        job, and one that beats after finds its run gone.
        """
        now = timezone.now()
        lost = self.model.objects.filter(self.stale_running(now)).update(
            state=Job.State.QUEUED,
            started_at=None,
            heartbeat_at=None,
            run_id=None,
            sent_to_broker=False,
        )
        if lost:
            logger.warning(
                "%s %s job(s) without a heartbeat for %ss: sent again",
                lost,
                self.name,
                settings.REPORT_HEARTBEAT_TIMEOUT,
            )
        ids = list(
            self.model.objects.filter(
                sent_to_broker=False, state=Job.State.QUEUED, ordered_at__lte=now - grace
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        sent = 0
        for pk in ids:
            if not self.send(pk):
                break  # the broker is still down; the next sweep tries again
            sent += 1
        return sent

    # --- Running ------------------------------------------------------------------

    @staticmethod
    def stale_running(now: datetime) -> Q:
        """Running jobs whose worker has not beaten for ``REPORT_HEARTBEAT_TIMEOUT``.

        A row claimed before heartbeats existed has none: its start counts.
        """
        cutoff = now - timedelta(seconds=settings.REPORT_HEARTBEAT_TIMEOUT)
        no_beat = Q(heartbeat_at__isnull=True) & (
            Q(started_at__lt=cutoff) | Q(started_at__isnull=True)
        )
        return Q(state=Job.State.RUNNING) & (Q(heartbeat_at__lt=cutoff) | no_beat)

    def claim(self, pk: int) -> Run | None:
        """Move the job from queued (or stale running) to running under a new
        run id; None if it is not ours to run."""
        now = timezone.now()
        run_id = uuid.uuid4()
        fields = {
            "state": Job.State.RUNNING,
            "run_id": run_id,
            "started_at": now,
            "heartbeat_at": now,
            "error": "",
        }
        rows = self.model.objects.filter(pk=pk)
        claimed = rows.filter(state=Job.State.QUEUED).update(**fields)
        if not claimed:
            # A worker that died mid-job leaves the row running; acks_late
            # re-delivers the message, and the job is taken over once stale.
            claimed = rows.filter(self.stale_running(now)).update(**fields)
        if not claimed:
            return None
        return Run(self, self.model.objects.get(pk=pk), run_id)

    def this_run(self, pk: int, run_id: uuid.UUID) -> models.QuerySet:
        """The row, while run ``run_id`` still holds it."""
        return self.model.objects.filter(pk=pk, state=Job.State.RUNNING, run_id=run_id)

    def state(self, pk: int) -> str:
        state = self.model.objects.filter(pk=pk).values_list("state", flat=True).first()
        return Job.State(state) if state else MISSING

    def run(self, pk: int, work: Callable[[Run], str], *, interval: float | None = None) -> str:
        """Claim job ``pk`` and do ``work(run)`` while a thread beats; the
        state the job ends in.

        ``work`` stores its result with ``run.finish(…)`` (and returns
        ``run.taken_over()`` when that finds the job gone), and may check
        ``run.lost`` between its steps. ``interval`` beats more often than
        ``REPORT_HEARTBEAT_INTERVAL`` (never less often), for progress.
        """
        run = self.claim(pk)
        if run is None:
            return self.state(pk)
        every = settings.REPORT_HEARTBEAT_INTERVAL
        if interval is not None:
            every = min(every, interval)
        try:
            with Heartbeat(run.beat, interval=every, name=f"{self.name} {pk}") as heartbeat:
                run.heartbeat = heartbeat
                return work(run)
        except TRANSIENT_ERRORS:
            self.requeue(pk, run_id=run.run_id)
            raise
        except Exception as exc:  # recorded, not swallowed: the page shows the reason
            logger.exception("%s %s failed", self.name, pk)
            self.fail(pk, reason=f"{type(exc).__name__}: {exc}", run_id=run.run_id)
            return Job.State.FAILED

    def requeue(self, pk: int, *, run_id: uuid.UUID) -> None:
        """Put run ``run_id`` back in the queue before a retry, so the retry can claim it.

        Its message is on its way (the retry), so the job stays marked as
        sent. If the database cannot be reached the row stays running, and
        the sweep sends it again once its heartbeat is stale.
        """
        try:
            self.this_run(pk, run_id).update(
                state=Job.State.QUEUED, started_at=None, heartbeat_at=None, run_id=None
            )
        except DatabaseError:
            logger.error("%s %s could not be put back in the queue", self.name, pk)

    def fail(self, pk: int, *, reason: str, run_id: uuid.UUID | None = None) -> None:
        """Record why the job failed: for run ``run_id`` while it holds the job,
        or without a run id (the last retry gave up) while no run holds it."""
        rows = (
            self.this_run(pk, run_id)
            if run_id
            else self.model.objects.filter(pk=pk, state=Job.State.QUEUED)
        )
        try:
            rows.update(state=Job.State.FAILED, error=reason[:2000], finished_at=timezone.now())
        except DatabaseError:  # the database itself is down: the log keeps the reason
            logger.error("%s %s failed and could not be marked: %s", self.name, pk, reason[:200])


def job_task_run(queue: JobQueue, task, pk: int, run: Callable[[], str]) -> str:
    """The body of a job's Celery task (``bind=True``): ``run()``, with
    transient database errors retried (the run has put the job back in the
    queue) and recorded as the reason for failure when the retries are spent."""
    try:
        return run()
    except TRANSIENT_ERRORS as exc:
        if task.request.retries >= task.max_retries:
            queue.fail(pk, reason=f"{type(exc).__name__}: {exc}")
            return Job.State.FAILED
        raise task.retry(exc=exc, countdown=5 * 2**task.request.retries) from exc
