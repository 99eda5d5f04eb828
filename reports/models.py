"""Stored retention reports: the order, its state, its figures and its PDF."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """A report order and its result. The figures are aggregate only (no
    person-level data), so they stay intact when people are culled."""

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
    as_of = models.DateField(_("reference date"))
    months = models.PositiveSmallIntegerField(_("horizon (months)"), default=0)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # Free text shown as the report's heading; escaped wherever it is shown.
    title = models.CharField(_("heading"), max_length=200, blank=True)
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
    # Written every REPORT_HEARTBEAT_INTERVAL seconds while the job runs; a
    # running job whose heartbeat is older than REPORT_HEARTBEAT_TIMEOUT died
    # with its worker and is sent again by the sweep.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("reason for failure"), blank=True)
    figures = models.JSONField(_("figures"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", blank=True)
    scheduled = models.BooleanField(_("monthly scheduled report"), default=False)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-ordered_at", "-pk"]

    def __str__(self) -> str:
        return f"{_('Retention report')} {self.as_of:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("reports:report-detail", kwargs={"pk": self.pk})
