"""Case data for the security tests, made from the apps' models directly so
that these tests depend on no other app's test helpers."""

import datetime
import random

import factory
from factory.django import DjangoModelFactory

from participants.models import (
    HousingSituation,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    SupportNeed,
)

from ..factories import UserFactory


def luhn(digits: str) -> int:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def fictional_personnummer(rng: random.Random, *, day: int | None = None) -> str:
    """12 digits with a valid check digit, born 1960–1989 (never a real list)."""
    year = rng.randint(1960, 1989)
    month = rng.randint(1, 12)
    day = day or rng.choice([d for d in range(1, 29) if d not in (5, 15, 25)])
    serial = rng.randint(100, 999)
    core = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    return f"{year // 100}{core}{luhn(core)}"


_rng = random.Random(4711)


class ParticipantFactory(DjangoModelFactory[Participant]):
    class Meta:
        model = Participant

    personnummer = factory.LazyFunction(lambda: fictional_personnummer(_rng))
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    phone = "070-123 45 67"
    postal_address = factory.Sequence(lambda n: f"Härbärget, Storgatan {n + 1}")
    status = ParticipantStatus.REFERRED


class ReferralFactory(DjangoModelFactory[Referral]):
    class Meta:
        model = Referral

    participant = factory.SubFactory(ParticipantFactory)
    referred_by = factory.SubFactory(UserFactory)
    referral_date = datetime.date(2020, 3, 2)
    housing_situation = HousingSituation.ACUTE
    support_need = SupportNeed.BOTH
    description = factory.Sequence(lambda n: f"Sover i trapphus sedan hösten, fritext nr {n}")


class NetworkContactFactory(DjangoModelFactory[NetworkContact]):
    class Meta:
        model = NetworkContact

    participant = factory.SubFactory(ParticipantFactory)
    name = factory.Faker("name", locale="sv_SE")
    relation = NetworkContact.Relation.FAMILY
    note = "Systern hjälper med ekonomin"
