"""Factories for landlords, apartments, tenancies and incidents. Participants
come from ``tests.participants.factories``; support and reports import these."""

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from housing.models import Apartment, ContractType, Landlord, Provider, Tenancy, TenancyIncident
from participants.models import ParticipantStatus
from tests.participants.factories import ParticipantFactory


class LandlordFactory(DjangoModelFactory[Landlord]):
    class Meta:
        model = Landlord
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Testbostäder {n} AB")
    contact_person = factory.Faker("name", locale="sv_SE")
    phone = "026-12 34 56"


class ProviderFactory(DjangoModelFactory[Provider]):
    class Meta:
        model = Provider
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Utförare {n}")
    kind = Provider.Kind.MUNICIPAL


class ApartmentFactory(DjangoModelFactory[Apartment]):
    class Meta:
        model = Apartment

    landlord = factory.SubFactory(LandlordFactory)
    address = factory.Sequence(lambda n: f"Testgatan {n + 1}")
    postal_code = "811 30"
    city = "Sandviken"
    rooms = Decimal("2")
    size_sqm = Decimal("48.5")
    monthly_rent = Decimal("6200")


class TenancyFactory(DjangoModelFactory[Tenancy]):
    """Saved directly (tests of the rules use the services). As letting through
    the service does, a current tenancy makes an approved participant housed."""

    class Meta:
        model = Tenancy

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
    apartment = factory.SubFactory(ApartmentFactory)
    contract_type = ContractType.SOCIAL
    move_in = datetime.date(2024, 1, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tenancy = super()._create(model_class, *args, **kwargs)
        participant = tenancy.participant
        if tenancy.move_out is None and participant.status == ParticipantStatus.APPROVED:
            participant.status = ParticipantStatus.HOUSED
            participant.save(update_fields=["status"])
        return tenancy


class IncidentFactory(DjangoModelFactory[TenancyIncident]):
    class Meta:
        model = TenancyIncident

    tenancy = factory.SubFactory(TenancyFactory)
    kind = TenancyIncident.Kind.DISTURBANCE
    occurred_on = datetime.date(2024, 6, 1)
    description = "Grannar klagade på hög musik sent på kvällen."
