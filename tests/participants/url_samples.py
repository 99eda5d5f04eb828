"""Arguments for the participants URLs in the project-wide walking tests.

The samples point at a referral filed by the demo social worker
(socialsekreterare), so that role reaches the page (not only a 404)."""

from participants.models import NetworkContact, Referral


def _referral(world) -> Referral:
    return (
        Referral.objects.filter(referred_by=world.social_worker, status="assessing")
        .order_by("pk")
        .first()
    ) or Referral.objects.filter(referred_by=world.social_worker).order_by("pk").first()


def _referral_pk(world) -> dict:
    return {"pk": _referral(world).pk}


def _participant_pk(world) -> dict:
    return {"pk": _referral(world).participant_id}


SAMPLES = {
    "participants:referral-detail": _referral_pk,
    "participants:referral-add-information": _referral_pk,
    "participants:referral-withdraw": _referral_pk,
    "participants:referral-start-assessment": _referral_pk,
    "participants:referral-log-entry": _referral_pk,
    "participants:referral-assess": _referral_pk,
    "participants:referral-decide": _referral_pk,
    "participants:participant-detail": _participant_pk,
    "participants:participant-update": _participant_pk,
    "participants:network-contact-create": _participant_pk,
    "participants:network-contact-update": lambda world: {
        "pk": NetworkContact.objects.order_by("pk").first().pk
    },
}
