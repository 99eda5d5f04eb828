"""Arguments and POST data for the housing URLs, for the project-wide walking
tests (``world`` is built by tests/world.py on the demo data)."""

from django.utils import timezone

from housing.models import (
    Apartment,
    ContractType,
    ExitReason,
    Landlord,
    Provider,
    Tenancy,
    TenancyIncident,
)
from participants.models import Participant, ParticipantStatus


def _ongoing_tenancy() -> Tenancy:
    return Tenancy.objects.filter(move_out__isnull=True).order_by("pk").first()


def _takeover_tenancy() -> Tenancy:
    return (
        Tenancy.objects.filter(move_out__isnull=True, contract_type="social", takeover=None)
        .order_by("pk")
        .first()
    )


def _apartment() -> Apartment:
    return Apartment.objects.order_by("pk").first()


def _incident() -> TenancyIncident:
    return TenancyIncident.objects.order_by("pk").first()


SAMPLES = {
    # A let apartment: its page shows the tenant.
    "housing:apartment-detail": lambda world: {"pk": _ongoing_tenancy().apartment_id},
    "housing:apartment-update": lambda world: {"pk": _apartment().pk},
    "housing:tenancy-detail": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:tenancy-takeover": lambda world: {"pk": _takeover_tenancy().pk},
    "housing:tenancy-end": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:tenancy-provider": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:incident-create": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:incident-update": lambda world: {"pk": _incident().pk},
}


# --- Valid POST data for the form pages (tests/bostadforst/test_submit_walks.py) --


def _today() -> str:
    return timezone.localdate().isoformat()


def _blank(value) -> str:
    return "" if value is None else str(value)


def _apartment_update(world) -> dict:
    apartment = _apartment()
    return {
        "landlord": str(apartment.landlord_id),
        "address": apartment.address,
        "postal_code": apartment.postal_code,
        "city": apartment.city,
        "rooms": _blank(apartment.rooms),
        "size_sqm": _blank(apartment.size_sqm),
        "monthly_rent": str(apartment.monthly_rent + 100),
        "status": apartment.status,
        "version": str(apartment.version),
    }


def _tenancy_assign(world) -> dict:
    """An approved person without a home and an apartment free from today."""
    today = timezone.localdate()
    participant = (
        Participant.objects.filter(status=ParticipantStatus.APPROVED, tenancies__isnull=True)
        .order_by("pk")
        .first()
    )
    apartment = (
        Apartment.objects.filter(status=Apartment.Status.ACTIVE)
        .exclude(tenancies__move_out__isnull=True)
        .exclude(tenancies__move_out__gt=today)
        .order_by("pk")
        .first()
    )
    return {
        "participant": str(participant.pk),
        "apartment": str(apartment.pk),
        "contract_type": ContractType.SOCIAL,
        "move_in": today.isoformat(),
        "support_worker": str(world.support_staff.pk),
        "note": "",
    }


def _incident_update(world) -> dict:
    incident = _incident()
    return {
        "kind": incident.kind,
        "occurred_on": incident.occurred_on.isoformat(),
        "amount": _blank(incident.amount),
        "description": f"{incident.description} Uppföljt med hyresvärden.",
        "resolved_on": incident.resolved_on.isoformat() if incident.resolved_on else "",
        "resolution": incident.resolution,
        "version": str(incident.version),
    }


FORM_SAMPLES = {
    "housing:apartment-create": lambda world: {
        "landlord": str(Landlord.objects.order_by("pk").first().pk),
        "address": "Provgatan 3",
        "postal_code": "811 30",
        "city": "Sandviken",
        "rooms": "2",
        "size_sqm": "52",
        "monthly_rent": "6400",
        "status": Apartment.Status.ACTIVE,
    },
    "housing:apartment-update": _apartment_update,
    "housing:tenancy-assign": _tenancy_assign,
    "housing:tenancy-takeover": lambda world: {
        "takeover": _today(),
        "version": str(_takeover_tenancy().version),
    },
    "housing:tenancy-provider": lambda world: {
        "provider": str(Provider.objects.order_by("pk").first().pk),
        "version": str(_ongoing_tenancy().version),
    },
    "housing:tenancy-end": lambda world: {
        "move_out": _today(),
        "exit_reason": ExitReason.MOVED_ON,
        "note": "Flyttade till eget förstahandskontrakt.",
        "close_case": "on",
        "version": str(_ongoing_tenancy().version),
    },
    "housing:incident-create": lambda world: {
        "kind": TenancyIncident.Kind.DISTURBANCE,
        "occurred_on": _today(),
        "amount": "",
        "description": "Grannar har klagat på hög musik sent på kvällen.",
        "resolved_on": "",
        "resolution": "",
    },
    "housing:incident-update": _incident_update,
}
