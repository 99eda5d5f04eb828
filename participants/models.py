"""Participants, referrals, eligibility assessments and network contacts."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.identity import IdentityMasked, Viewer, protected_address, protected_person_alias
from bostadforst.models import CaseModel
from bostadforst.scope import ScopedManager

from .personnummer import birth_date, mask, normalise


class TargetGroupCode(models.TextChoices):
    """Stockholm's six target groups for Housing First."""

    ACUTE_HOMELESS = "acute_homeless", _("Acute homelessness")
    LONG_TERM_HOMELESS = "long_term_homeless", _("Long-term homelessness")
    FAMILIES = "families", _("Families with children in insecure housing")
    COMPLEX_NEEDS = "complex_needs", _("Complex care needs")
    YOUNG_ADULTS = "young_adults", _("Young adults")
    ELDERLY = "elderly", _("Elderly")


class TargetGroup(models.Model):
    """Reference rows, one per ``TargetGroupCode`` (created by a data migration),
    so that reports can group participants by target group in SQL."""

    code = models.CharField(_("code"), max_length=30, choices=TargetGroupCode.choices, unique=True)

    class Meta:
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.get_code_display())


class ReferringUnit(CaseModel):
    """A unit that refers people to Housing First: a city district's social
    services (stadsdelsförvaltning) or a municipality in a joint programme.
    Reference data kept by administrators; a referral records its unit."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("City district (stadsdelsförvaltning)")
        MUNICIPALITY = "municipality", _("Municipality in a joint programme")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DISTRICT)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active units can be chosen on a referral.")
    )

    participant_path = None

    class Meta:
        verbose_name = _("referring unit")
        verbose_name_plural = _("referring units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ParticipantStatus(models.TextChoices):
    REFERRED = "referred", _("Referred")
    ASSESSING = "assessing", _("Under assessment")
    APPROVED = "approved", _("Approved, waiting for an apartment")
    HOUSED = "housed", _("Housed")
    EXITED = "exited", _("Exited")


class ParticipantQuerySet(models.QuerySet):
    def active(self) -> "ParticipantQuerySet":
        """People in the programme now: approved and waiting, or housed (not
        anonymised by culling)."""
        return self.filter(status__in=ACTIVE_STATUSES, anonymised_at__isnull=True)

    def protected(self) -> "ParticipantQuerySet":
        """People with protected identity (any of the three grades)."""
        return self.exclude(identity_protection=IdentityProtection.NONE)


# Approved and waiting for an apartment, or housed: who the team works with,
# who may be let an apartment (a housed person moving on too).
ACTIVE_STATUSES = (ParticipantStatus.APPROVED, ParticipantStatus.HOUSED)


class IdentityProtection(models.TextChoices):
    """The three grades of protected personal data in the population register
    (Skatteverket): a person may have one of them, set by the unit manager."""

    NONE = "", _("None")
    CONFIDENTIALITY_MARKING = "marking", _("Confidentiality marking")
    PROTECTED_REGISTRATION = "protected", _("Protected population registration")
    FICTITIOUS_IDENTITY = "fictitious", _("Fictitious personal data")


class Participant(IdentityMasked, CaseModel):
    """A person referred to, or living in, Housing First.

    A person with protected identity (``identity_protection``) shows their
    name, personnummer and contact details only to the unit managers and the
    staff named in ``identity_access``; everyone else is shown an alias
    (``bostadforst.identity``).
    """

    identity_fields = (
        "first_name",
        "last_name",
        "personnummer",
        "phone",
        "email",
        "postal_address",
    )

    # Stored normalised as 12 digits (participants.personnummer.normalise);
    # optional only for people imported from spreadsheets without one.
    personnummer = models.CharField(
        _("personal identity number"), max_length=12, unique=True, null=True, blank=True
    )
    # The municipality's own reference, used by the cohort import.
    external_ref = models.CharField(
        _("municipal reference"), max_length=50, unique=True, null=True, blank=True
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    postal_address = models.CharField(_("postal address"), max_length=200, blank=True)
    registered_since = models.DateField(
        _("registered in the municipality since"), null=True, blank=True
    )
    target_groups = models.ManyToManyField(
        TargetGroup, verbose_name=_("target groups"), blank=True, related_name="participants"
    )
    children_in_household = models.PositiveSmallIntegerField(
        _("children in the household"), default=0
    )
    support_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned support staff"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caseload",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ParticipantStatus.choices,
        default=ParticipantStatus.REFERRED,
        db_index=True,
    )
    # When the case was closed; culling (gallring) counts from this date.
    closed_on = models.DateField(_("case closed"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)
    identity_protection = models.CharField(
        _("protected identity"),
        max_length=12,
        choices=IdentityProtection.choices,
        blank=True,
        default=IdentityProtection.NONE,
    )
    identity_access = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff who may see the identity"),
        blank=True,
        related_name="protected_participants",
    )
    # GDPR art. 18: while a request for correction is looked into, nothing of
    # the case changes but the correction itself.
    processing_restricted_since = models.DateTimeField(
        _("processing restricted since"), null=True, blank=True, editable=False
    )
    processing_restriction_reason = models.TextField(
        _("reason for restricting processing"), max_length=2000, blank=True, editable=False
    )

    objects = ScopedManager.from_queryset(ParticipantQuerySet)()

    participant_path = "self"

    # Who may see a protected identity is part of the record's history (the
    # protection page lists every decision with the staff it named).
    _history_m2m_fields = ("identity_access",)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["last_name", "first_name", "pk"]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.external_ref or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("participants:participant-detail", kwargs={"pk": self.pk})

    @property
    def is_protected(self) -> bool:
        return bool(self.identity_protection)

    def identity_hidden_from(self, viewer: Viewer) -> bool:
        return self.pk in viewer.hidden("person")

    def mask_identity(self, viewer: Viewer) -> None:
        self.first_name = protected_person_alias(self.pk)
        self.last_name = ""
        self.personnummer = None
        self.phone = self.email = ""
        self.postal_address = protected_address()

    def clean(self) -> None:
        """One-row rules: the number in its normalised form; a registration
        date neither in the future nor before the person was born."""
        errors = {}
        born = None
        if self.personnummer:
            try:
                if normalise(self.personnummer) != self.personnummer:
                    errors["personnummer"] = _("Store the number normalised as 12 digits.")
                else:
                    born = birth_date(self.personnummer)
            except ValidationError as exc:
                errors["personnummer"] = exc.messages
        if self.registered_since:
            if self.registered_since > timezone.localdate():
                errors["registered_since"] = ValidationError(
                    _("The registration date cannot be in the future."), code="future"
                )
            elif born and self.registered_since < born:
                errors["registered_since"] = ValidationError(
                    _("The registration date cannot be before the date of birth."),
                    code="before_birth",
                )
        if errors:
            raise ValidationError(errors)

    @property
    def personnummer_masked(self) -> str:
        """YYYYMMDD-**** : the form shown everywhere but the person's own page."""
        return mask(self.personnummer)

    @property
    def personnummer_display(self) -> str:
        if not self.personnummer:
            return ""
        return f"{self.personnummer[:8]}-{self.personnummer[8:]}"


class HousingSituation(models.TextChoices):
    """Socialstyrelsen's four homelessness situations (2017), plus "not homeless"."""

    ACUTE = "acute", _("1. Acute homelessness (shelter, emergency housing, sleeping rough)")
    INSTITUTION = (
        "institution",
        _("2. In an institution or supported housing, moving out within three months with no home"),
    )
    SOCIAL_SOLUTION = (
        "social_solution",
        _("3. Long-term housing arranged by social services (training flat, social contract)"),
    )
    SHORT_TERM_OWN = (
        "short_term_own",
        _("4. Short-term own arrangement (friends, relatives, short sublet)"),
    )
    NOT_HOMELESS = "not_homeless", _("Not homeless")


class TemporaryArrangement(models.TextChoices):
    """The kind of short-term own arrangement (situation 4)."""

    FRIENDS = "friends", _("Staying with friends or acquaintances")
    RELATIVES = "relatives", _("Lodging with relatives")
    SECOND_HAND = "second_hand", _("Second-hand sublet")
    OTHER = "other", _("Other")


class SupportNeed(models.TextChoices):
    ADDICTION = "addiction", _("Addiction")
    MENTAL_ILLNESS = "mental_illness", _("Mental illness")
    BOTH = "both", _("Both addiction and mental illness")


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSESSING = "assessing", _("Under assessment")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The phase a referral alone gives its person: how a person with only this
# referral stands (``services._sync_participant_status`` takes the most
# advanced of a person's referrals).
PHASE_OF_REFERRAL_STATUS = {
    ReferralStatus.SUBMITTED: ParticipantStatus.REFERRED,
    ReferralStatus.ASSESSING: ParticipantStatus.ASSESSING,
    ReferralStatus.APPROVED: ParticipantStatus.APPROVED,
    ReferralStatus.DECLINED: ParticipantStatus.EXITED,
    ReferralStatus.WITHDRAWN: ParticipantStatus.EXITED,
}


class MatchStatus(models.TextChoices):
    """Whether the personnummer of a referral matched a person already known.

    A match links the referral to that person for the team only; the team
    confirms it, or rejects it and the referral gets a person of its own.
    """

    NEW = "new", _("New person")
    PENDING = "pending", _("Known person, to be confirmed")
    CONFIRMED = "confirmed", _("Known person, confirmed")
    REJECTED = "rejected", _("Not the known person")


@dataclass(frozen=True)
class Applicant:
    """The person as the referring social worker typed them on the referral."""

    first_name: str
    last_name: str
    personnummer: str

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def personnummer_masked(self) -> str:
        return mask(self.personnummer)


class Referral(IdentityMasked, CaseModel):
    """A social worker's referral (remiss) of a person to Housing First.

    The ``applicant_*`` fields keep what the social worker typed. For a new
    person they also became the participant's details; when the personnummer
    matched a person already known, the referral is linked to that person for
    the team (``match``), and the social worker is shown only what they typed
    (``person_for_referrer``), never the known person's record.
    """

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referred by"),
        on_delete=models.PROTECT,
        related_name="referrals_made",
    )
    referral_date = models.DateField(_("referral date"))
    referring_unit = models.ForeignKey(
        ReferringUnit,
        verbose_name=_("referring unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    housing_situation = models.CharField(
        _("current housing situation"), max_length=20, choices=HousingSituation.choices
    )
    temporary_arrangement = models.CharField(
        _("kind of temporary arrangement"),
        max_length=20,
        choices=TemporaryArrangement.choices,
        blank=True,
    )
    situation_since = models.DateField(_("in this situation since"), null=True, blank=True)
    support_need = models.CharField(_("support need"), max_length=20, choices=SupportNeed.choices)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ReferralStatus.choices,
        default=ReferralStatus.SUBMITTED,
        db_index=True,
    )
    match = models.CharField(
        _("known person"),
        max_length=10,
        choices=MatchStatus.choices,
        default=MatchStatus.NEW,
        editable=False,
    )
    applicant_personnummer = models.CharField(
        _("personal identity number as referred"), max_length=12, blank=True, editable=False
    )
    applicant_first_name = models.CharField(
        _("first name as referred"), max_length=100, blank=True, editable=False
    )
    applicant_last_name = models.CharField(
        _("last name as referred"), max_length=100, blank=True, editable=False
    )
    applicant_phone = models.CharField(
        _("phone as referred"), max_length=30, blank=True, editable=False
    )
    applicant_email = models.EmailField(_("e-mail as referred"), blank=True, editable=False)
    applicant_postal_address = models.CharField(
        _("postal address as referred"), max_length=200, blank=True, editable=False
    )
    applicant_registered_since = models.DateField(
        _("registered in the municipality since, as referred"),
        null=True,
        blank=True,
        editable=False,
    )
    applicant_children_in_household = models.PositiveSmallIntegerField(
        _("children in the household, as referred"), default=0, editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), max_length=2000, blank=True)
    override_justification = models.TextField(
        _("justification for approving without all criteria met"), max_length=2000, blank=True
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referral_date", "-pk"]
        indexes = [
            # "My referrals": one social worker's referrals, newest first.
            models.Index(fields=["referred_by", "-referral_date"], name="referral_by_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "declined"])
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="referral_decision_records_who_and_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="referral_decline_has_reason",
            ),
        ]

    identity_fields = (
        "applicant_personnummer",
        "applicant_first_name",
        "applicant_last_name",
        "applicant_phone",
        "applicant_email",
        "applicant_postal_address",
    )

    def __str__(self) -> str:
        return f"{_('Referral')} {self.referral_date:%Y-%m-%d} ({self.get_status_display()})"

    def identity_hidden_from(self, viewer: Viewer) -> bool:
        return self.participant_id in viewer.hidden("person")

    def identity_closed_to(self, viewer: Viewer) -> bool:
        """The social worker who referred a protected person still follows
        their referral (without the address, ``mask_identity``)."""
        return super().identity_closed_to(viewer) and viewer.user_id != self.referred_by_id

    def mask_identity(self, viewer: Viewer) -> None:
        """The referring social worker keeps the name they typed but not where
        the person lives; everyone else sees the alias."""
        self.applicant_postal_address = protected_address()
        if viewer.user_id != self.referred_by_id:
            self.applicant_first_name = protected_person_alias(self.participant_id)
            self.applicant_last_name = ""
            self.applicant_personnummer = ""
            self.applicant_phone = self.applicant_email = ""

    def get_absolute_url(self) -> str:
        return reverse("participants:referral-detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        """One-row rules on the dates and the temporary arrangement."""
        errors = {}
        today = timezone.localdate()
        if self.referral_date and self.referral_date > today:
            errors["referral_date"] = ValidationError(
                _("The referral date cannot be in the future."), code="future"
            )
        if self.situation_since:
            if self.situation_since > today:
                errors["situation_since"] = ValidationError(
                    _("The date cannot be in the future."), code="future"
                )
            elif self.referral_date and self.situation_since > self.referral_date:
                errors["situation_since"] = ValidationError(
                    _("The date cannot be after the referral date."), code="after_referral"
                )
        if self.temporary_arrangement and self.housing_situation != HousingSituation.SHORT_TERM_OWN:
            errors["temporary_arrangement"] = ValidationError(
                _(
                    "The kind of arrangement applies only to situation 4 "
                    "(short-term own arrangement)."
                ),
                code="arrangement_without_situation",
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in {ReferralStatus.SUBMITTED, ReferralStatus.ASSESSING}

    @property
    def was_overridden(self) -> bool:
        return self.status == ReferralStatus.APPROVED and bool(self.override_justification)

    @property
    def applicant(self) -> Applicant:
        return Applicant(
            first_name=self.applicant_first_name,
            last_name=self.applicant_last_name,
            personnummer=self.applicant_personnummer,
        )

    @property
    def linked_to_known_person(self) -> bool:
        """The personnummer matched a person already known (the team's to confirm)."""
        return self.match in {MatchStatus.PENDING, MatchStatus.CONFIRMED}

    @property
    def person_for_referrer(self) -> "Participant | Applicant":
        """Who the referring social worker is shown: the person the referral
        brought in, or, for a person already known, only what was typed; for
        a protected person also only what was typed (without the address)."""
        if self.linked_to_known_person or self.participant.identity_masked:
            return self.applicant
        return self.participant


class ReferralEvent(CaseModel):
    """An entry in a referral's log: a status change, an interview, a reference
    contacted, or information added. Records who and when."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Status change")
        INTERVIEW_BOOKED = "interview_booked", _("Interview booked")
        INTERVIEW_HELD = "interview_held", _("Interview held")
        REFERENCE_CONTACTED = "reference_contacted", _("Reference contacted")
        INFORMATION = "information", _("Information added")
        MATCH_CONFIRMED = "match_confirmed", _("Known person confirmed")
        MATCH_REJECTED = "match_rejected", _("Known person rejected")

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=20, choices=ReferralStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=20, choices=ReferralStatus.choices, blank=True
    )
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=5000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    participant_path = "referral__participant"

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Criterion(models.TextChoices):
    """Helsingborg's six eligibility criteria for Housing First."""

    HOMELESS = "homeless", _("Homeless")
    SUPPORT_NEED = (
        "support_need",
        _(
            "Needs substantial support from social services because of addiction and/or "
            "mental illness"
        ),
    )
    RESIDENCE = "residence", _("Registered in the municipality for at least the required years")
    ENROLLED = "enrolled", _("Enrolled with the labour-market or social-services administration")
    MOTIVATED = "motivated", _("Motivated and genuinely willing to keep the home")
    CONTACT = "contact", _("Willing to keep regular contact with the support team for two years")


class Answer(models.TextChoices):
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    UNKNOWN = "unknown", _("Unknown")


class EligibilityAssessment(CaseModel):
    """The assessor's recorded answer to one criterion for one referral."""

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="assessments"
    )
    criterion = models.CharField(_("criterion"), max_length=20, choices=Criterion.choices)
    answer = models.CharField(
        _("answer"), max_length=10, choices=Answer.choices, default=Answer.UNKNOWN
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_on = models.DateField(_("assessed"), null=True, blank=True)

    participant_path = "referral__participant"

    class Meta:
        verbose_name = _("eligibility assessment")
        verbose_name_plural = _("eligibility assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "criterion"], name="one_answer_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.get_answer_display()}"


class NetworkContact(CaseModel):
    """A person or organisation around the applicant or tenant."""

    class Relation(models.TextChoices):
        FAMILY = "family", _("Family")
        FRIEND = "friend", _("Friend")
        PERSONAL_REPRESENTATIVE = "personal_representative", _("Personal representative")
        PSYCHIATRY = "psychiatry", _("Psychiatry")
        ADDICTION_CLINIC = "addiction_clinic", _("Addiction clinic")
        SOCIAL_SECRETARY = "social_secretary", _("Social secretary")
        ASSOCIATION = "association", _("Association")
        OTHER = "other", _("Other")

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="network_contacts",
    )
    name = models.CharField(_("name"), max_length=200)
    relation = models.CharField(_("relation"), max_length=30, choices=Relation.choices)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    consent_to_contact = models.BooleanField(_("consent to contact"), default=False)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("network contact")
        verbose_name_plural = _("network contacts")
        ordering = ["relation", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"


# --- Consent (samtycke) ---------------------------------------------------------------


class ConsentPurpose(models.TextChoices):
    """What the person agreed to; the details go in ``purpose_detail``."""

    CONTACT = "contact", _("Contact with the recipient")
    INFORMATION_SHARING = "information_sharing", _("Sharing information with the recipient")
    COORDINATED_PLAN = "coordinated_plan", _("Coordinated individual plan (SIP)")
    OTHER = "other", _("Other")


# The purposes under which the team may contact a network contact: a consent
# to share information or to plan together also covers getting in touch.
CONTACT_PURPOSES = (
    ConsentPurpose.CONTACT,
    ConsentPurpose.INFORMATION_SHARING,
    ConsentPurpose.COORDINATED_PLAN,
)


class ConsentRecipientKind(models.TextChoices):
    """An organisation a consent names when it is not one of the person's
    recorded network contacts."""

    PSYCHIATRY = "psychiatry", _("Psychiatry")
    ADDICTION_CLINIC = "addiction_clinic", _("Addiction clinic")
    LANDLORD = "landlord", _("Landlord")
    PERSONAL_REPRESENTATIVE = "personal_representative", _("Personal representative")
    SOCIAL_SERVICES = "social_services", _("Social services")
    HEALTHCARE = "healthcare", _("Healthcare")
    OTHER = "other", _("Other")


class ConsentGivenAs(models.TextChoices):
    WRITTEN = "written", _("In writing")
    ORAL = "oral", _("Orally")


class ConsentQuerySet(models.QuerySet):
    def valid_on(self, day: date) -> "ConsentQuerySet":
        """Consents in force on ``day``: given on or before it, not expired
        (``expires_on`` is the last day it holds) and not withdrawn (it
        stops holding on the day of the withdrawal). ``Consent.is_valid_on``
        is the same rule for one row."""
        return self.filter(
            models.Q(given_on__lte=day),
            models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=day),
            models.Q(withdrawn_on__isnull=True) | models.Q(withdrawn_on__gt=day),
        )

    def expiring_within(self, days: int, day: date) -> "ConsentQuerySet":
        """Consents valid on ``day`` whose last day falls within ``days`` days
        of it (today included): the ones to renew or let lapse."""
        return self.valid_on(day).filter(
            expires_on__isnull=False, expires_on__lte=day + timedelta(days=days)
        )


class Consent(CaseModel):
    """A person's consent to contact, or share information with, one
    recipient for one purpose (OSL 10 kap. 1 §, 12 kap. 2 §; SOSFS 2014:5).

    The recipient is one of the person's network contacts or an organisation
    named by kind and name. Who recorded it and when it was given are kept;
    a withdrawal is recorded on the row (the day, by whom, a note), never by
    deleting it, so the history shows what held when.
    """

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    purpose_detail = models.TextField(_("what the consent covers"), max_length=2000, blank=True)
    # PROTECT: a contact a consent names stays while the consent does (the
    # person's culling removes both).
    recipient_contact = models.ForeignKey(
        NetworkContact,
        verbose_name=_("network contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
    )
    recipient_kind = models.CharField(
        _("kind of organisation"), max_length=30, choices=ConsentRecipientKind.choices, blank=True
    )
    recipient_name = models.CharField(_("organisation"), max_length=200, blank=True)
    given_as = models.CharField(_("given"), max_length=10, choices=ConsentGivenAs.choices)
    given_on = models.DateField(_("given on"))
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_note = models.TextField(_("note on the withdrawal"), max_length=2000, blank=True)

    objects = ScopedManager.from_queryset(ConsentQuerySet)()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-pk"]
        indexes = [
            # The start page: consents that run out soon.
            models.Index(fields=["expires_on"], name="consent_expires_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient_contact__isnull=False, recipient_kind="")
                    | models.Q(recipient_contact__isnull=True) & ~models.Q(recipient_kind="")
                ),
                name="consent_has_one_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gt=models.F("given_on")),
                name="consent_expires_after_given",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_on__isnull=True)
                | models.Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_on__isnull=True, withdrawn_by__isnull=True)
                | models.Q(withdrawn_on__isnull=False, withdrawn_by__isnull=False),
                name="consent_withdrawal_names_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.recipient_display}"

    @property
    def recipient_display(self) -> str:
        if self.recipient_contact_id:
            return str(self.recipient_contact)
        kind = self.get_recipient_kind_display()
        return f"{self.recipient_name} ({kind})" if self.recipient_name else str(kind)

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_on is not None

    def is_valid_on(self, day: date) -> bool:
        """The rule of ``ConsentQuerySet.valid_on`` for this row."""
        return (
            self.given_on <= day
            and (self.expires_on is None or self.expires_on >= day)
            and (self.withdrawn_on is None or self.withdrawn_on > day)
        )

    def clean(self) -> None:
        """One-row rules: one recipient (a contact of this person, or a kind
        of organisation with its name), the details of an "other" purpose,
        dates in order and not in the future, a withdrawal naming who."""
        errors: dict[str, list] = {}

        def add(field, message, code):
            errors.setdefault(field, []).append(ValidationError(message, code=code))

        today = timezone.localdate()
        if self.recipient_contact_id:
            if self.recipient_kind or self.recipient_name:
                add(
                    "recipient_kind",
                    _("Choose either a network contact or an organisation, not both."),
                    "two_recipients",
                )
            elif self.participant_id and self.recipient_contact.participant_id != (
                self.participant_id
            ):
                add(
                    "recipient_contact",
                    _("Choose one of the participant's own network contacts."),
                    "foreign_contact",
                )
        elif not self.recipient_kind:
            add(
                "recipient_contact",
                _("Choose a network contact or the kind of organisation."),
                "no_recipient",
            )
        elif not self.recipient_name.strip():
            add("recipient_name", _("Write the name of the organisation."), "no_name")
        if self.purpose == ConsentPurpose.OTHER and not self.purpose_detail.strip():
            add("purpose_detail", _("Describe what the consent covers."), "no_detail")
        if self.given_on:
            if self.given_on > today:
                add("given_on", _("The date cannot be in the future."), "future")
            if self.expires_on and self.expires_on <= self.given_on:
                add(
                    "expires_on",
                    _("The consent must be valid until a day after it was given."),
                    "expires_before_given",
                )
            if self.withdrawn_on and self.withdrawn_on < self.given_on:
                add(
                    "withdrawn_on",
                    _("A consent cannot be withdrawn before it was given."),
                    "withdrawn_before_given",
                )
        if self.withdrawn_on and self.withdrawn_on > today:
            add("withdrawn_on", _("The date cannot be in the future."), "future")
        if (self.withdrawn_on is None) != (self.withdrawn_by_id is None):
            add(
                "withdrawn_on",
                _("A withdrawal records both the day and who recorded it."),
                "withdrawal_incomplete",
            )
        if errors:
            raise ValidationError(errors)
