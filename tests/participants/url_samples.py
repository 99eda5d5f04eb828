"""Arguments and POST data for the participants URLs in the project-wide
walking tests.

The samples point at a referral filed by the demo social worker
(socialsekreterare), so that role reaches the page (not only a 404)."""

from datetime import timedelta

from django.utils import timezone

from participants.consent import consent_record
from participants.models import (
    Answer,
    Consent,
    ConsentGivenAs,
    ConsentPurpose,
    ConsentRecipientKind,
    Criterion,
    HousingSituation,
    MatchStatus,
    NetworkContact,
    Participant,
    Referral,
    ReferralEvent,
    ReferralStatus,
    SupportNeed,
)

from .factories import fictional_personnummer


def _referral(world) -> Referral:
    return (
        Referral.objects.filter(referred_by=world.social_worker, status="assessing")
        .order_by("pk")
        .first()
    ) or Referral.objects.filter(referred_by=world.social_worker).order_by("pk").first()


def _submitted(world) -> Referral:
    """A referral the team has not started to assess (only that can be started)."""
    return Referral.objects.filter(status=ReferralStatus.SUBMITTED).order_by("pk").first()


def _pending_match(world) -> Referral:
    """The demo's referral whose personnummer matched a known person, not yet
    confirmed or rejected by the team."""
    return Referral.objects.filter(match=MatchStatus.PENDING).order_by("pk").first()


def _referral_pk(world) -> dict:
    return {"pk": _referral(world).pk}


def _participant_pk(world) -> dict:
    return {"pk": _referral(world).participant_id}


def _contact() -> NetworkContact:
    return NetworkContact.objects.order_by("pk").first()


def _protection_pk(world) -> dict:
    """The last participant but one for the protection page: the last is the
    restricted one and other samples take the first rows."""
    return {"pk": Participant.objects.order_by("-pk").values_list("pk", flat=True)[1]}


def _protection(world) -> dict:
    """Protect the person naming every active support worker (so the walks'
    support staff still see them), or lift a protection: each submit changes
    something (one that changes nothing saves nothing)."""
    from bostadforst.models import User

    participant = Participant.objects.get(**_protection_pk(world))
    if participant.identity_protection:
        return {
            "protection": "",
            "reason": "Skyddet har upphört.",
            "version": str(participant.version),
        }
    staff = User.objects.filter(groups__name="support_staff", is_active=True)
    return {
        "protection": "marking",
        "staff": [str(pk) for pk in staff.values_list("pk", flat=True)],
        "reason": "Sekretessmarkering enligt Skatteverket.",
        "version": str(participant.version),
    }


def _restricted_pk(world) -> dict:
    """The last participant, with processing restricted (GDPR art. 18): only
    a restricted person's restriction can be lifted. Other samples take the
    first rows, so this one leaves their records writable."""
    participant = Participant.objects.order_by("-pk").first()
    if participant.processing_restricted_since is None:
        Participant.objects.filter(pk=participant.pk).update(
            processing_restricted_since=timezone.now(),
            processing_restriction_reason="Personen säger att adressen är fel.",
        )
    return {"pk": participant.pk}


def _open_consent(world) -> Consent:
    """A consent of the sample participant not yet withdrawn (recorded here
    when the demo data has none)."""
    participant = _referral(world).participant
    consent = (
        Consent.objects.filter(participant=participant, withdrawn_on__isnull=True)
        .order_by("pk")
        .first()
    )
    if consent is None:
        consent = consent_record(
            participant=participant,
            acting_user=world.support_staff,
            purpose=ConsentPurpose.INFORMATION_SHARING,
            recipient_kind=ConsentRecipientKind.PSYCHIATRY,
            recipient_name="Psykiatrimottagning Provstaden",
            given_as=ConsentGivenAs.WRITTEN,
            given_on=timezone.localdate() - timedelta(days=10),
        )
    return consent


SAMPLES = {
    "participants:participant-restrict": _participant_pk,
    "participants:participant-restriction-lift": _restricted_pk,
    "participants:referral-detail": _referral_pk,
    "participants:referral-add-information": _referral_pk,
    "participants:referral-withdraw": _referral_pk,
    "participants:referral-start-assessment": lambda world: {"pk": _submitted(world).pk},
    "participants:referral-log-entry": _referral_pk,
    "participants:referral-assess": _referral_pk,
    "participants:referral-decide": _referral_pk,
    "participants:referral-match-confirm": lambda world: {"pk": _pending_match(world).pk},
    "participants:referral-match-reject": lambda world: {"pk": _pending_match(world).pk},
    "participants:participant-detail": _participant_pk,
    "participants:participant-update": _participant_pk,
    "participants:participant-protection": _protection_pk,
    "participants:network-contact-create": _participant_pk,
    "participants:network-contact-update": lambda world: {"pk": _contact().pk},
    "participants:consent-create": _participant_pk,
    "participants:consent-withdraw": lambda world: {"pk": _open_consent(world).pk},
}


# --- Valid POST data for the form pages (tests/bostadforst/test_submit_walks.py) --


def _today() -> str:
    return timezone.localdate().isoformat()


def _referral_create(world) -> dict:
    today = timezone.localdate()
    return {
        "personnummer": fictional_personnummer(),
        "first_name": "Gunnel",
        "last_name": "Provström",
        "phone": "",
        "email": "",
        "postal_address": "",
        "registered_since": (today - timedelta(days=365 * 4)).isoformat(),
        "children_in_household": "0",
        "referral_date": today.isoformat(),
        "housing_situation": HousingSituation.ACUTE,
        "temporary_arrangement": "",
        "situation_since": "",
        "support_need": SupportNeed.BOTH,
        "description": "Sover på härbärge sedan ett år och vill ha en egen lägenhet.",
    }


def _participant_update(world) -> dict:
    participant: Participant = _referral(world).participant
    return {
        "personnummer": participant.personnummer or "",
        "first_name": participant.first_name,
        "last_name": participant.last_name,
        "phone": "070-111 22 33",
        "email": participant.email,
        "postal_address": "Provgatan 7",
        "registered_since": (
            participant.registered_since.isoformat() if participant.registered_since else ""
        ),
        "children_in_household": str(participant.children_in_household),
        "support_worker": str(participant.support_worker_id or ""),
        "target_groups": [str(pk) for pk in participant.target_groups.values_list("pk", flat=True)],
        "version": str(participant.version),
    }


def _network_contact_update(world) -> dict:
    contact = _contact()
    return {
        "name": contact.name,
        "relation": contact.relation,
        "organisation": contact.organisation,
        "phone": contact.phone,
        "email": contact.email,
        "consent_to_contact": "on" if contact.consent_to_contact else "",
        "note": "Nås bäst på förmiddagen.",
        "version": str(contact.version),
    }


def _referral_assess(world) -> dict:
    """All six met; each criterion with the version it was read at (0: not yet assessed)."""
    read = dict(_referral(world).assessments.values_list("criterion", "version"))
    data = {}
    for criterion in Criterion.values:
        data[f"answer_{criterion}"] = Answer.MET
        data[f"note_{criterion}"] = ""
        data[f"version_{criterion}"] = str(read.get(criterion, 0))
    return data


FORM_SAMPLES = {
    "participants:participant-restrict": lambda world: {
        "reason": "Personen begär rättelse av uppgifterna om missbruk i remissen."
    },
    "participants:participant-restriction-lift": lambda world: {
        "outcome": "Uppgiften rättad i journalen."
    },
    "participants:referral-create": _referral_create,
    "participants:referral-add-information": lambda world: {
        "note": "Har fått kontakt med psykiatrin."
    },
    "participants:referral-withdraw": lambda world: {
        "reason": "Har fått ett eget boende på annat sätt.",
        "version": str(_referral(world).version),
    },
    "participants:referral-start-assessment": lambda world: {
        "version": str(_submitted(world).version)
    },
    "participants:referral-log-entry": lambda world: {
        "kind": ReferralEvent.Kind.INTERVIEW_HELD,
        "occurred_on": _today(),
        "note": "Intervju på mötesplatsen.",
    },
    "participants:referral-assess": _referral_assess,
    "participants:referral-decide": lambda world: {
        "decision": "decline",
        "decline_reason": "Uppfyller inte kriteriet om hemlöshet.",
        "override_justification": "",
        "version": str(_referral(world).version),
    },
    "participants:referral-match-confirm": lambda world: {
        "version": str(_pending_match(world).version)
    },
    "participants:referral-match-reject": lambda world: {
        "version": str(_pending_match(world).version)
    },
    "participants:participant-update": _participant_update,
    "participants:participant-protection": _protection,
    "participants:network-contact-create": lambda world: {
        "name": "Lisa Ombud",
        "relation": NetworkContact.Relation.PERSONAL_REPRESENTATIVE,
        "organisation": "Personligt ombud i kommunen",
        "phone": "",
        "email": "",
        "consent_to_contact": "on",
        "note": "",
    },
    "participants:network-contact-update": _network_contact_update,
    "participants:consent-create": lambda world: {
        "purpose": ConsentPurpose.CONTACT,
        "purpose_detail": "",
        "recipient_contact": "",
        "recipient_kind": ConsentRecipientKind.ADDICTION_CLINIC,
        "recipient_name": "Beroendemottagningen",
        "given_as": ConsentGivenAs.ORAL,
        "given_on": _today(),
        "expires_on": (timezone.localdate() + timedelta(days=365)).isoformat(),
    },
    "participants:consent-withdraw": lambda world: {
        "withdrawn_on": _today(),
        "note": "Sa vid hembesöket att hon inte längre vill.",
        "confirm": "on",
        "version": str(_open_consent(world).version),
    },
}
