"""Arguments for the housing URLs that take them, for the project-wide walking
tests (``world`` is built by tests/world.py on the demo data)."""

from housing.models import Apartment, Tenancy, TenancyIncident


def _ongoing_tenancy() -> Tenancy:
    return Tenancy.objects.filter(move_out__isnull=True).order_by("pk").first()


SAMPLES = {
    # A let apartment: its page shows the tenant.
    "housing:apartment-detail": lambda world: {"pk": _ongoing_tenancy().apartment_id},
    "housing:apartment-update": lambda world: {"pk": Apartment.objects.order_by("pk").first().pk},
    "housing:tenancy-detail": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:tenancy-takeover": lambda world: {
        "pk": Tenancy.objects.filter(move_out__isnull=True, contract_type="social", takeover=None)
        .order_by("pk")
        .first()
        .pk
    },
    "housing:tenancy-end": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:incident-create": lambda world: {"pk": _ongoing_tenancy().pk},
    "housing:incident-update": lambda world: {
        "pk": TenancyIncident.objects.order_by("pk").first().pk
    },
}
