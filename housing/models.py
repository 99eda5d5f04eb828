"""Landlords, apartments, tenancies and tenancy incidents."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from bostadforst.models import CaseModel
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


class Apartment(CaseModel):
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


class Tenancy(CaseModel):
    """A participant's tenancy of an apartment: the half-open period
    [move_in, move_out). The move-out day is free for the next tenancy.

    No apartment has two overlapping tenancies and no participant holds two at
    once: checked by ``housing.services`` and, on PostgreSQL, by exclusion
    constraints added in migration 0003 (SQLite has none).
    """

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
    move_in = models.DateField(_("move-in date"), db_index=True)
    move_out = models.DateField(_("move-out date"), null=True, blank=True)
    exit_reason = models.CharField(
        _("exit reason"), max_length=30, choices=ExitReason.choices, blank=True
    )
    takeover = models.DateField(_("contract takeover date"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

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
        end = f"{self.move_out:%Y-%m-%d}" if self.move_out else "…"
        return f"{self.apartment} {self.move_in:%Y-%m-%d}–{end}"

    def get_absolute_url(self) -> str:
        return reverse("housing:tenancy-detail", kwargs={"pk": self.pk})

    def is_active_on(self, day) -> bool:
        return self.move_in <= day and (self.move_out is None or self.move_out > day)


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

    participant_path = "tenancy__participant"

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
