"""The team's Housing First fidelity self-assessment.

The scale is reference data the administrator adjusts in the admin: the
Pathways model's five domains (``Domain``) and the items under each
(``Item``), so that a municipality can use its own Swedish version. An
``Assessment`` is one sitting of the team (one per date) and holds a
``Score`` for each item that was active on that day. Items that have been
scored are never deleted (``PROTECT``), only deactivated: old assessments
keep their scores and their results.

None of these rows is about a participant (``participant_path = None``); they
are case models for their change history and access log all the same.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from bostadforst.models import CaseModel


class Domain(CaseModel):
    """A domain of the fidelity scale (housing process and structure …)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    participant_path = None

    class Meta:
        verbose_name = _("fidelity domain")
        verbose_name_plural = _("fidelity domains")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Item(CaseModel):
    """One item of the scale, scored from ``scale_min`` to ``scale_max``
    (1–4 by default, as in the Pathways Housing First fidelity scale)."""

    domain = models.ForeignKey(
        Domain, on_delete=models.PROTECT, related_name="items", verbose_name=_("domain")
    )
    text = models.CharField(_("item"), max_length=300)
    help_text = models.CharField(_("guidance"), max_length=500, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    scale_min = models.PositiveSmallIntegerField(_("lowest score"), default=1)
    scale_max = models.PositiveSmallIntegerField(_("highest score"), default=4)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive items are no longer offered; earlier assessments keep their scores."),
    )

    participant_path = None

    class Meta:
        verbose_name = _("fidelity item")
        verbose_name_plural = _("fidelity items")
        ordering = ["domain__order", "domain_id", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scale_max__gt=F("scale_min")),
                name="fidelity_item_scale_max_above_min",
                violation_error_message=_("The highest score must be above the lowest."),
            ),
            models.CheckConstraint(
                condition=Q(scale_max__lte=10),
                name="fidelity_item_scale_max_at_most_10",
                violation_error_message=_("The highest score can be at most 10."),
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Assessment(CaseModel):
    """One self-assessment of the team, on one date."""

    date = models.DateField(_("date"), unique=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff who took part"),
        blank=True,
        related_name="fidelity_assessments",
    )
    external_count = models.PositiveSmallIntegerField(
        _("others who took part"), default=0, blank=True
    )
    external_description = models.CharField(
        _("who the others were"),
        max_length=300,
        blank=True,
        help_text=_("Roles or organisations only, no names (for example: two from the landlord)."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
        null=True,
        editable=False,
    )

    participant_path = None

    class Meta:
        verbose_name = _("fidelity assessment")
        verbose_name_plural = _("fidelity assessments")
        ordering = ["-date", "-pk"]

    # Who took part is part of the record: simple-history snapshots it with
    # every history row.
    _history_m2m_fields = ("staff",)

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("fidelity:assessment-detail", kwargs={"pk": self.pk})


class Score(CaseModel):
    """One item's score in one assessment, with an optional comment."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores", verbose_name=_("assessment")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="scores", verbose_name=_("item")
    )
    value = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), max_length=2000, blank=True)

    participant_path = None

    class Meta:
        verbose_name = _("fidelity score")
        verbose_name_plural = _("fidelity scores")
        ordering = ["item__domain__order", "item__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "item"], name="fidelity_score_one_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.value}"
