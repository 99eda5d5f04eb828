"""Consent (samtycke): recording and withdrawing it, and the reads that flag
contacts and consents needing attention.

Writes are keyword-only, take the ``acting_user``, run in one transaction and
save through ``record_save`` (validation, history and access-log row
together). A withdrawal changes the row and never deletes it: the change
history shows what held before. Reads return what a page needs in a fixed
number of queries.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from bostadforst.identity import hidden_ids
from bostadforst.records import record_save
from bostadforst.roles import TEAM, Role, role_of

from .models import (
    CONTACT_PURPOSES,
    Consent,
    NetworkContact,
    Participant,
    ParticipantStatus,
)

# Consents that run out within this many days are shown on the start page.
EXPIRY_NOTICE_DAYS = 30

CONSENT_FIELDS = (
    "purpose",
    "purpose_detail",
    "recipient_contact",
    "recipient_kind",
    "recipient_name",
    "given_as",
    "given_on",
    "expires_on",
)


def _require_team(user) -> None:
    if role_of(user) not in TEAM:
        raise PermissionDenied


# --- Writes -------------------------------------------------------------------------


@transaction.atomic
def consent_record(*, participant: Participant, acting_user, **fields) -> Consent:
    """Record a consent the person gave (in writing or orally); the acting
    user is kept as the one who recorded it."""
    _require_team(acting_user)
    unknown = set(fields) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"consent_record() got unexpected fields {sorted(unknown)!r}")
    consent = Consent(participant=participant, recorded_by=acting_user, **fields)
    if consent.recipient_contact_id:
        # One recipient: a contact leaves no organisation on the row.
        consent.recipient_kind = consent.recipient_name = ""
    record_save(consent, acting_user=acting_user)
    return consent


@transaction.atomic
def consent_withdraw(
    *, consent: Consent, acting_user, withdrawn_on: date | None = None, note: str = ""
) -> Consent:
    """Record that the person withdrew ``consent`` on ``withdrawn_on`` (today
    if not given). The row stays; from that day it no longer holds.

    ``consent.version`` is the version the user read (a withdrawal over
    someone else's save is refused with ``StaleObjectError``).
    """
    _require_team(acting_user)
    if consent.is_withdrawn:
        raise ValidationError(
            gettext("The consent was already withdrawn on %(day)s.")
            % {"day": consent.withdrawn_on.isoformat()},
            code="already_withdrawn",
        )
    before = consent.withdrawn_on, consent.withdrawn_by, consent.withdrawal_note
    consent.withdrawn_on = withdrawn_on or timezone.localdate()
    consent.withdrawn_by = acting_user
    consent.withdrawal_note = (note or "").strip()
    try:
        record_save(consent, acting_user=acting_user, reason=gettext("Consent withdrawn"))
    except ValidationError:
        # The form is shown again with the consent as it is stored.
        consent.withdrawn_on, consent.withdrawn_by, consent.withdrawal_note = before
        raise
    return consent


# --- Reads --------------------------------------------------------------------------


def consent_queryset(*, user) -> QuerySet[Consent]:
    """The consents the user may open (the team's), with what the pages show."""
    if role_of(user) not in TEAM:
        return Consent.objects.none()
    return Consent.objects.select_related(
        "participant", "recipient_contact", "recorded_by", "withdrawn_by"
    )


def consent_list(*, participant: Participant) -> list[Consent]:
    """Every consent of the person, withdrawn and expired ones too, newest
    first (one query)."""
    return list(
        participant.consents.select_related("recipient_contact", "recorded_by", "withdrawn_by")
    )


def _has_contact_consent(day: date) -> Exists:
    return Exists(
        Consent.objects.valid_on(day).filter(
            recipient_contact=OuterRef("pk"), purpose__in=CONTACT_PURPOSES
        )
    )


def network_contacts_with_consent(
    *, participant: Participant, day: date | None = None
) -> list[NetworkContact]:
    """The person's network contacts, each with ``has_valid_consent``: a
    consent to contact them (``CONTACT_PURPOSES``) holds on ``day``. One query."""
    day = day or timezone.localdate()
    return list(participant.network_contacts.annotate(has_valid_consent=_has_contact_consent(day)))


def contacts_without_consent(*, contact_ids, day: date | None = None) -> frozenset[int]:
    """Of ``contact_ids``, the contacts no consent to contact holds for on
    ``day`` (one query; none for no ids)."""
    ids = {pk for pk in contact_ids if pk is not None}
    if not ids:
        return frozenset()
    day = day or timezone.localdate()
    return frozenset(
        NetworkContact.objects.filter(pk__in=ids)
        .exclude(_has_contact_consent(day))
        .values_list("pk", flat=True)
    )


def consents_expiring_for(*, user, day: date | None = None) -> list[Consent]:
    """Consents still in force that run out within ``EXPIRY_NOTICE_DAYS``,
    soonest first: for support staff those of their own caseload, for a unit
    manager everyone's; nothing for other roles. People whose protected
    identity the user may not see and closed cases are left out. At most two
    queries (the hidden people, then the consents) whatever the number."""
    role = role_of(user)
    if role not in TEAM:
        return []
    day = day or timezone.localdate()
    consents = (
        Consent.objects.expiring_within(EXPIRY_NOTICE_DAYS, day)
        .filter(participant__anonymised_at__isnull=True)
        .exclude(participant__status=ParticipantStatus.EXITED)
        .select_related("participant", "recipient_contact")
        .order_by("expires_on", "pk")
    )
    if role == Role.SUPPORT_STAFF:
        consents = consents.filter(participant__support_worker=user)
    hidden = hidden_ids("person")
    if hidden:
        consents = consents.exclude(participant_id__in=hidden)
    return list(consents)
