"""Stored retention reports: the order, its state, its figures and its PDF."""

from typing import BinaryIO

from django.conf import settings
from django.db import models
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bostadforst.jobs import Job


class Report(Job):
    """A report order and its result. The figures are aggregate only (no
    person-level data), so they stay intact when people are culled. The job's
    own fields (state, outbox, run, heartbeat) are ``Job``'s."""

    as_of = models.DateField(_("reference date"))
    months = models.PositiveSmallIntegerField(_("horizon (months)"), default=0)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # Free text shown as the report's heading; escaped wherever it is shown.
    title = models.CharField(_("heading"), max_length=200, blank=True)
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


class ImportFile(models.Model):
    """A spreadsheet uploaded for a cohort import, kept on the server for its
    jobs (the preview, then the import of the same file): the browser sends
    it once. It holds personal data (personnummer), so it is forgotten with
    its jobs after ``COHORT_IMPORT_DAYS`` days, and its content as soon as it
    has been imported. It lives in the database, which the web never serves
    and whose backups and grants already cover the register."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content = models.BinaryField(_("content"), editable=False)

    class Meta:
        verbose_name = _("import file")
        verbose_name_plural = _("import files")

    def __str__(self) -> str:
        return self.filename

    def copy_content(self, file: BinaryIO) -> int:
        """Write the content to ``file`` a chunk (``CONTENT_CHUNK`` bytes) per
        query, so that it is never held whole; returns the bytes written."""
        written = 0
        while True:
            part = (
                ImportFile.objects.filter(pk=self.pk)
                .annotate(part=Substr("content", written + 1, CONTENT_CHUNK, output_field=BINARY))
                .values_list("part", flat=True)
                .first()
            )
            if part:
                file.write(part)
                written += len(part)
            if not part or len(part) < CONTENT_CHUNK:
                return written


CONTENT_CHUNK = 1 << 20
BINARY = models.BinaryField()


class CohortImport(Job):
    """A cohort import job: the preview (checks everything, writes nothing)
    or the import (all or nothing) of an uploaded file, its progress while it
    runs, and its result: the counts and every error with its line.

    An import is started from a preview that found no errors, of the same
    file; one preview has at most one import (a database constraint), so the
    file is never imported twice by a double click or two tabs."""

    class Mode(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        COMMIT = "commit", pgettext_lazy("cohort import mode", "Import")

    class Stage(models.TextChoices):
        CHECK = "check", _("Checking rows")
        WRITE = "write", _("Writing rows")

    file = models.ForeignKey(
        ImportFile, verbose_name=_("file"), on_delete=models.CASCADE, related_name="jobs"
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    preview = models.OneToOneField(
        "self",
        verbose_name=_("preview"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="commit_job",
    )
    # Progress, written by the job's heartbeat while it runs.
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    # The result: what the file was read as, ImportResult's counts, and every
    # error as {"line": n, "sheet": "…", "message": "…"}.
    source = models.CharField(_("read as"), max_length=200, blank=True)
    counts = models.JSONField(_("counts"), null=True, blank=True)
    row_errors = models.JSONField(_("errors"), default=list, blank=True)
    # len(row_errors), for lists that should not load every error.
    error_count = models.PositiveIntegerField(_("number of errors"), default=0)
    committed = models.BooleanField(_("imported"), default=False)

    class Meta:
        verbose_name = _("cohort import")
        verbose_name_plural = _("cohort imports")
        ordering = ["-ordered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mode="preview", preview__isnull=True)
                | models.Q(mode="commit", preview__isnull=False),
                name="cohort_import_commit_has_preview",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.file_id}"

    def get_absolute_url(self) -> str:
        return reverse("reports:cohort-import-detail", kwargs={"pk": self.pk})

    @property
    def is_commit(self) -> bool:
        return self.mode == self.Mode.COMMIT

    @property
    def changes(self) -> int:
        """How many records the file adds or changes (0: already imported)."""
        counts = self.counts or {}
        return sum(
            counts.get(key, 0)
            for key in (
                "participants_created",
                "participants_updated",
                "landlords_created",
                "apartments_created",
                "tenancies_created",
                "tenancies_updated",
            )
        )


class RegisterExtract(Job):
    """A register extract (registerutdrag, GDPR art. 15) of one person: what
    the system holds about them and who has read or changed it, as a PDF.

    The PDF holds the person's data, so the row points at the person with a
    cascading key: culling (``bostadforst.gallring``) finds it through the
    model graph and deletes it with its file. The period limits the access
    log extract only; the person's records are always given in full."""

    class Stage(models.TextChoices):
        COLLECT = "collect", _("Collecting records")
        LOG = "log", _("Collecting the access log")
        RENDER = "render", _("Writing the PDF")

    participant = models.ForeignKey(
        "participants.Participant",
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="register_extracts",
    )
    period_from = models.DateField(_("access log from"), null=True, blank=True)
    period_to = models.DateField(_("access log until"), null=True, blank=True)
    # Progress, written by the job's heartbeat while it runs.
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)
    done = models.PositiveIntegerField(_("parts done"), default=0)
    total = models.PositiveIntegerField(_("parts in all"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="extracts/%Y/%m/", blank=True)

    # The job's own bookkeeping is not data about the person: left out when
    # an extract lists the earlier extracts of the person (reports.extract).
    register_extract_exclude = (
        "sent_to_broker",
        "run_id",
        "heartbeat_at",
        "started_at",
        "error",
        "stage",
        "done",
        "total",
        "pdf",
    )

    class Meta:
        verbose_name = _("register extract")
        verbose_name_plural = _("register extracts")
        ordering = ["-ordered_at", "-pk"]

    def __str__(self) -> str:
        when = f" {self.ordered_at:%Y-%m-%d}" if self.ordered_at else ""
        return f"{_('Register extract')}{when}"

    def get_absolute_url(self) -> str:
        return reverse("reports:register-extract-detail", kwargs={"pk": self.pk})


class DataQualitySnapshot(models.Model):
    """The data-quality score of one day (``reports.data_quality``), kept
    for the score-over-time chart: aggregate counts only, no person."""

    day = models.DateField(_("day"), unique=True)
    checked = models.PositiveIntegerField(_("rows checked"))
    flagged = models.PositiveIntegerField(_("rows to correct"))
    # Per rule: {"name": [checked, flagged]}, so a changed rule set stays readable.
    counts = models.JSONField(_("counts per rule"), default=dict)

    class Meta:
        verbose_name = _("data-quality snapshot")
        verbose_name_plural = _("data-quality snapshots")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{_('Data quality')} {self.day:%Y-%m-%d}"

    @property
    def score(self) -> float | None:
        """The share of checked rows that break no rule (0–1); None when none were checked."""
        return 1 - self.flagged / self.checked if self.checked else None


class ResearchExport(Job):
    """A pseudonymised dataset for an approved research project
    (``reports.research_export``): who ordered it and when (``Job``), for
    what project and purpose, under which approving decision, with which
    export key (its fingerprint only) and how many rows of each table.

    The research project's key itself is never stored. Its derived key
    (``research_export.derive_key``) is kept on the row only until the job
    has written the file, so that the background job can compute the
    pseudonyms; after that nobody can compute them again without the key."""

    class DateMode(models.TextChoices):
        SHIFT = "shift", _("Shifted per person")
        MONTH = "month", _("Coarsened to the month")

    project = models.CharField(_("research project"), max_length=200)
    purpose = models.TextField(_("purpose"), max_length=2000)
    decision_reference = models.CharField(
        _("approving decision (reference number)"), max_length=100
    )
    key_fingerprint = models.CharField(_("export key fingerprint"), max_length=32)
    derived_key = models.CharField(max_length=64, blank=True, editable=False)
    date_mode = models.CharField(_("dates"), max_length=10, choices=DateMode.choices)
    shift_days = models.PositiveSmallIntegerField(_("largest date shift (days)"), default=0)
    # Rows per table and the protected people left out: {"people": n, ...}.
    counts = models.JSONField(_("row counts"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="research/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("research export")
        verbose_name_plural = _("research exports")
        ordering = ["-ordered_at", "-pk"]

    def __str__(self) -> str:
        when = f" {self.ordered_at:%Y-%m-%d}" if self.ordered_at else ""
        return f"{_('Research export')}{when}"
