"""Factories for the reports tests: participants with tenancies (fictional)."""

import factory
from factory.django import DjangoModelFactory

from housing.models import Apartment, ContractType, Landlord, Tenancy
from participants.models import Participant, ParticipantStatus


class LandlordFactory(DjangoModelFactory[Landlord]):
    class Meta:
        model = Landlord
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Bostadsbolaget {n}")


class ApartmentFactory(DjangoModelFactory[Apartment]):
    class Meta:
        model = Apartment

    landlord = factory.SubFactory(LandlordFactory)
    address = factory.Faker("street_address", locale="sv_SE")


class ParticipantFactory(DjangoModelFactory[Participant]):
    class Meta:
        model = Participant

    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    external_ref = factory.Sequence(lambda n: f"REF-{n:05d}")
    status = ParticipantStatus.HOUSED


class TenancyFactory(DjangoModelFactory[Tenancy]):
    class Meta:
        model = Tenancy

    participant = factory.SubFactory(ParticipantFactory)
    apartment = factory.SubFactory(ApartmentFactory)
    contract_type = ContractType.FIRST_HAND
    move_in = factory.Faker("date_between", start_date="-10y", end_date="-1y")
