"""Landlords, apartments, tenancies and tenancy incidents."""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.identity import IdentityMasked, Viewer, protected_address
from bostadforst.models import CaseModel
from bostadforst.scope import ScopedManager, current_limits, unscoped
from participants.models import Participant


class Landlord(CaseModel):
    """A housing company that lets apartments to Housing First tenants."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    participant_path = None

    class Meta:
        verbose_name = _("landlord")
        verbose_name_plural = _("landlords")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Provider(CaseModel):
    """The organisation that runs the support of a tenancy: the municipality's
    own Housing First team or an idea-based partner in an IOP (idéburet
    offentligt partnerskap). Reference data kept by administrators."""

    class Kind(models.TextChoices):
        MUNICIPAL = "municipal", _("The municipality's own team")
        IOP_PARTNER = "iop_partner", _("IOP partner (idea-based organisation)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MUNICIPAL)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active providers can be chosen on a tenancy.")
    )

    participant_path = None

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Apartment(IdentityMasked, CaseModel):
    """An apartment let to Housing First. While a person with protected
    identity lives there, its address is shown only to those who may see them."""

    identity_fields = ("address", "postal_code")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In use for Housing First")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    landlord = models.ForeignKey(
        Landlord, verbose_name=_("landlord"), on_delete=models.PROTECT, related_name="apartments"
    )
    address = models.CharField(_("address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    rooms = models.DecimalField(
        _("rooms"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10"))],
    )
    size_sqm = models.DecimalField(
        _("size (m²)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("10")), MaxValueValidator(Decimal("300"))],
    )
    monthly_rent = models.DecimalField(
        _("monthly rent (SEK)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50000"))],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )

    participant_path = None

    class Meta:
        verbose_name = _("apartment")
        verbose_name_plural = _("apartments")
        ordering = ["address", "pk"]

    def __str__(self) -> str:
        return f"{self.address}, {self.landlord}" if self.landlord_id else self.address

    def get_absolute_url(self) -> str:
        return reverse("housing:apartment-detail", kwargs={"pk": self.pk})

    def identity_hidden_from(self, viewer: Viewer) -> bool:
        return self.pk in viewer.hidden("apartment")

    def mask_identity(self, viewer: Viewer) -> None:
        self.address = protected_address()
        self.postal_code = ""

    def person_ids(self) -> set[int]:
        """The apartment page shows its tenants, current and earlier: those
        prefetched as ``tenancy_history`` (an apartment without them shows no
        one)."""
        return {t.participant_id for t in getattr(self, "tenancy_history", ())}


class ContractType(models.TextChoices):
    FIRST_HAND = "first_hand", _("First-hand contract in the tenant's name")
    SOCIAL = "social", _("Social contract (held by the municipality, sublet)")


class ExitReason(models.TextChoices):
    MOVED_ON = "moved_on", _("Moved on to other permanent housing")
    OTHER_HF_APARTMENT = "other_hf_apartment", _("Moved to another Housing First apartment")
    EVICTED = "evicted", _("Evicted")
    TERMINATED = "terminated", _("Contract terminated by the landlord")
    HOMELESSNESS = "homelessness", _("Left for homelessness")
    INSTITUTION = "institution", _("Moved to an institution")
    DECEASED = "deceased", _("Deceased")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    OTHER = "other", _("Other")


# Dates before the first Swedish Housing First projects, or more than a year
# ahead, are typing errors rather than plans.
EARLIEST_DATE = datetime.date(2000, 1, 1)
PLANNING_HORIZON = datetime.timedelta(days=366)


class TenancyQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> "TenancyQuerySet":
        """Tenancies whose half-open period [move_in, move_out) contains ``day``."""
        return self.filter(Q(move_out__isnull=True) | Q(move_out__gt=day), move_in__lte=day)


def periods_overlap(
    start: datetime.date,
    end: datetime.date | None,
    other_start: datetime.date,
    other_end: datetime.date | None,
) -> bool:
    """The rule against double letting, for two tenancies' half-open periods
    [start, end) (an end of None: still going on).

    They overlap when each starts before the other ends, so a move-out and
    the next move-in on the same day do not conflict. ``Tenancy.clean`` (one
    tenancy against the rows held) and the cohort import (a whole file at
    once, ``reports.cohort_write``) both decide with this function; on
    PostgreSQL the exclusion constraints of migration 0003 say the same.
    """
    return (other_end is None or start < other_end) and (end is None or other_start < end)


def latest_overlap(tenancy, others: Iterable) -> "Tenancy | None":
    """Of ``others`` (tenancies, or anything with ``move_in``, ``move_out``
    and ``pk``), the latest-starting one whose period overlaps ``tenancy``'s,
    or None: the one an overlap message names."""
    clashes = [
        other
        for other in others
        if periods_overlap(tenancy.move_in, tenancy.move_out, other.move_in, other.move_out)
    ]
    return max(clashes, key=lambda other: (other.move_in, other.pk or 0), default=None)


class Tenancy(CaseModel):
    """A participant's tenancy of an apartment: the half-open period
    [move_in, move_out). The move-out day is free for the next tenancy.

    No apartment has two overlapping tenancies and no participant holds two at
    once: checked by ``clean()`` (every service calls ``full_clean()``) and, on
    PostgreSQL, by the exclusion constraints of migration
    0004_tenancy_exclusion_constraints, which the database enforces even
    against writes that skip validation or race each other.
    """

    error_messages = {
        "move_out_before_move_in": _("The move-out date must be after the move-in date."),
        "exit_reason_required": _("Choose an exit reason when the tenancy ends."),
        "exit_reason_without_move_out": _("An exit reason needs a move-out date."),
        "takeover_first_hand": _(
            "Only a social contract can be taken over; this is a first-hand contract."
        ),
        "takeover_before_move_in": _("The takeover date cannot be before the move-in date."),
        "takeover_after_move_out": _("The takeover date must be before the move-out date."),
        "takeover_in_future": _("A takeover cannot be recorded for a date in the future."),
        "date_too_early": _("The date cannot be before %(date)s."),
        "date_too_late": _("The date cannot be more than a year ahead."),
        "apartment_overlap": _(
            "The apartment is already let in this period: %(tenancy)s (tenant: %(tenant)s). "
            "A new tenancy can start on that tenancy's move-out day at the earliest."
        ),
        "apartment_overlap_unseen": _(
            "The apartment is already let in this period: %(tenancy)s, to a tenant "
            "outside the people you see. A new tenancy can start on that tenancy's "
            "move-out day at the earliest."
        ),
        "participant_overlap": _(
            "The participant already has a tenancy in this period: %(tenancy)s. "
            "End it first; the new tenancy can start on its move-out day."
        ),
    }

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="tenancies",
    )
    apartment = models.ForeignKey(
        Apartment,
        verbose_name=_("apartment"),
        on_delete=models.PROTECT,
        related_name="tenancies",
    )
    contract_type = models.CharField(
        _("contract type"), max_length=20, choices=ContractType.choices
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenancies",
    )
    move_in = models.DateField(_("move-in date"), db_index=True)
    move_out = models.DateField(_("move-out date"), null=True, blank=True)
    exit_reason = models.CharField(
        _("exit reason"), max_length=30, choices=ExitReason.choices, blank=True
    )
    takeover = models.DateField(_("contract takeover date"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    objects = ScopedManager.from_queryset(TenancyQuerySet)()

    class Meta:
        verbose_name = _("tenancy")
        verbose_name_plural = _("tenancies")
        ordering = ["-move_in", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(move_out__isnull=True) | Q(move_out__gt=models.F("move_in")),
                name="tenancy_move_out_after_move_in",
            ),
            models.CheckConstraint(
                condition=(Q(move_out__isnull=True) & Q(exit_reason=""))
                | (Q(move_out__isnull=False) & ~Q(exit_reason="")),
                name="tenancy_exit_reason_iff_moved_out",
            ),
            models.CheckConstraint(
                condition=Q(takeover__isnull=True)
                | (
                    Q(contract_type="social")
                    & Q(takeover__gte=models.F("move_in"))
                    & (Q(move_out__isnull=True) | Q(takeover__lt=models.F("move_out")))
                ),
                name="tenancy_takeover_within_social_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.apartment} {self.period_display}"

    def get_absolute_url(self) -> str:
        return reverse("housing:tenancy-detail", kwargs={"pk": self.pk})

    @property
    def period_display(self) -> str:
        end = f"{self.move_out:%Y-%m-%d}" if self.move_out else "…"
        return f"{self.move_in:%Y-%m-%d}–{end}"

    def is_active_on(self, day) -> bool:
        return self.move_in <= day and (self.move_out is None or self.move_out > day)

    @property
    def is_ongoing(self) -> bool:
        """Not (yet) moved out: no move-out date, or one still ahead."""
        return self.move_out is None or self.move_out > timezone.localdate()

    def clean(self) -> None:
        self._validate(overlaps=True)

    def clean_row(self) -> None:
        """The rules of this tenancy on its own (dates, exit reason,
        takeover), without a query: ``clean`` less the overlap check, for a
        caller that checks overlaps for many tenancies at once (the cohort
        import)."""
        self._validate(overlaps=False)

    def _validate(self, *, overlaps: bool) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def add(field: str, code: str, params: dict | None = None) -> None:
            errors.setdefault(field, []).append(
                ValidationError(self.error_messages[code], code=code, params=params)
            )

        self._check_row(add)
        if overlaps and not errors and self.move_in:
            self._check_overlaps(add)
        if errors:
            raise ValidationError(errors)

    def _check_row(self, add) -> None:
        latest = timezone.localdate() + PLANNING_HORIZON
        for field in ("move_in", "move_out", "takeover"):
            value = getattr(self, field)
            if value is None:
                continue
            if value < EARLIEST_DATE:
                add(field, "date_too_early", {"date": f"{EARLIEST_DATE:%Y-%m-%d}"})
            elif value > latest:
                add(field, "date_too_late")
        if self.move_in and self.move_out and self.move_out <= self.move_in:
            add("move_out", "move_out_before_move_in")
        if self.move_out and not self.exit_reason:
            add("exit_reason", "exit_reason_required")
        if self.exit_reason and not self.move_out:
            add("move_out", "exit_reason_without_move_out")
        if self.takeover:
            if self.contract_type != ContractType.SOCIAL:
                add("takeover", "takeover_first_hand")
            elif self.move_in and self.takeover < self.move_in:
                add("takeover", "takeover_before_move_in")
            elif self.move_out and self.takeover >= self.move_out:
                add("takeover", "takeover_after_move_out")
            elif self.takeover > timezone.localdate():
                add("takeover", "takeover_in_future")

    def _check_overlaps(self, add) -> None:
        """No double letting (``periods_overlap``) with the other tenancies of
        the apartment and of the participant (a handful each): every
        tenancy, not only those of the viewer's row scope, as the database's
        constraint sees them. A clash with the tenancy of someone outside the
        scope is named by its period alone."""
        apartment_clash = participant_clash = None
        with unscoped():
            others = Tenancy.objects.exclude(pk=self.pk)
            if self.apartment_id:
                apartment_clash = latest_overlap(
                    self,
                    others.filter(apartment_id=self.apartment_id).select_related(
                        "participant", "apartment__landlord"
                    ),
                )
            if self.participant_id:
                participant_clash = latest_overlap(
                    self,
                    others.filter(participant_id=self.participant_id).select_related(
                        "apartment__landlord"
                    ),
                )
        unseen = (
            apartment_clash is not None
            and bool(current_limits())
            and not Tenancy.objects.filter(pk=apartment_clash.pk).exists()
        )
        for field, code, params in self.overlap_problems(
            apartment_clash=apartment_clash,
            participant_clash=participant_clash,
            tenant_unseen=unseen,
        ):
            add(field, code, params)

    @staticmethod
    def overlap_problems(
        *,
        apartment_clash: "Tenancy | None",
        participant_clash: "Tenancy | None",
        tenant_unseen: bool = False,
    ) -> list[tuple[str, str, dict]]:
        """(field, code, params) of the overlap messages naming the clashing
        tenancies (with their apartment and, for the apartment's, its tenant,
        unless ``tenant_unseen``: outside the viewer's row scope): the
        messages of ``clean`` and of the cohort import's check of a whole
        file."""
        problems = []
        if apartment_clash is not None and tenant_unseen:
            problems.append(
                ("apartment", "apartment_overlap_unseen", {"tenancy": str(apartment_clash)})
            )
        elif apartment_clash is not None:
            problems.append(
                (
                    "apartment",
                    "apartment_overlap",
                    {"tenancy": str(apartment_clash), "tenant": str(apartment_clash.participant)},
                )
            )
        if participant_clash is not None:
            problems.append(
                ("participant", "participant_overlap", {"tenancy": str(participant_clash)})
            )
        return problems


class TenancyIncidentQuerySet(models.QuerySet):
    def eviction_risks(self, day: datetime.date) -> "TenancyIncidentQuerySet":
        """Open rent arrears and notices of termination on tenancies not yet
        ended on ``day``."""
        return self.filter(
            Q(tenancy__move_out__isnull=True) | Q(tenancy__move_out__gt=day),
            kind__in=TenancyIncident.EVICTION_RISK_KINDS,
            resolved_on__isnull=True,
        )


class TenancyIncident(CaseModel):
    """Something that threatens the tenancy; open ones raise an eviction-risk flag."""

    class Kind(models.TextChoices):
        RENT_ARREARS = "rent_arrears", _("Rent arrears")
        DISTURBANCE = "disturbance", _("Disturbance complaint")
        DAMAGE = "damage", _("Damage")
        LANDLORD_CONTACT = "landlord_contact", _("Landlord contact")
        NOTICE = "notice", _("Notice of termination")

    # Kinds that put the home at immediate risk (the eviction-risk list).
    EVICTION_RISK_KINDS = (Kind.RENT_ARREARS, Kind.NOTICE)

    tenancy = models.ForeignKey(
        Tenancy, verbose_name=_("tenancy"), on_delete=models.PROTECT, related_name="incidents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(_("date"))
    amount = models.DecimalField(
        _("amount (SEK)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000000"))],
    )
    description = models.TextField(_("description"), max_length=5000)
    resolved_on = models.DateField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), max_length=5000, blank=True)

    objects = ScopedManager.from_queryset(TenancyIncidentQuerySet)()

    participant_path = "tenancy__participant"

    error_messages = {
        "amount_required": _("Give the amount owed for rent arrears."),
        "amount_only_for_arrears": _("An amount belongs to rent arrears only."),
        "before_tenancy": _("The incident date cannot be before the tenancy's move-in date."),
        "after_tenancy": _("The incident date cannot be after the tenancy's move-out date."),
        "in_future": _("The date cannot be in the future."),
        "resolved_before_occurred": _("The resolution date cannot be before the incident date."),
        "resolution_without_date": _("Give the date the incident was resolved."),
    }

    class Meta:
        verbose_name = _("tenancy incident")
        verbose_name_plural = _("tenancy incidents")
        ordering = ["occurred_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=models.F("occurred_on")),
                name="incident_resolved_after_occurred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None

    @property
    def is_eviction_risk(self) -> bool:
        return self.is_open and self.kind in self.EVICTION_RISK_KINDS

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def add(field: str, code: str) -> None:
            errors.setdefault(field, []).append(
                ValidationError(self.error_messages[code], code=code)
            )

        today = timezone.localdate()
        if self.kind == self.Kind.RENT_ARREARS and self.amount is None:
            add("amount", "amount_required")
        if self.kind and self.kind != self.Kind.RENT_ARREARS and self.amount is not None:
            add("amount", "amount_only_for_arrears")
        if self.occurred_on:
            if self.occurred_on > today:
                add("occurred_on", "in_future")
            elif self.tenancy_id:
                tenancy = self.tenancy
                if self.occurred_on < tenancy.move_in:
                    add("occurred_on", "before_tenancy")
                elif tenancy.move_out and self.occurred_on > tenancy.move_out:
                    add("occurred_on", "after_tenancy")
        if self.resolved_on:
            if self.resolved_on > today:
                add("resolved_on", "in_future")
            elif self.occurred_on and self.resolved_on < self.occurred_on:
                add("resolved_on", "resolved_before_occurred")
        elif self.resolution.strip():
            add("resolved_on", "resolution_without_date")
        if errors:
            raise ValidationError(errors)
