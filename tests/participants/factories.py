"""Factories for participants and referrals (fictional people only)."""

import random
from datetime import date, timedelta

import factory
from factory.django import DjangoModelFactory

from participants.models import (
    EligibilityAssessment,
    HousingSituation,
    NetworkContact,
    Participant,
    Referral,
    ReferralEvent,
    SupportNeed,
)
from participants.personnummer import generate

from ..factories import UserFactory

_rng = random.Random(20261123)


def fictional_personnummer() -> str:
    return generate(_rng)


class ParticipantFactory(DjangoModelFactory[Participant]):
    class Meta:
        model = Participant

    personnummer = factory.LazyFunction(fictional_personnummer)
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    phone = factory.Faker("phone_number", locale="sv_SE")
    registered_since = factory.LazyFunction(lambda: date.today() - timedelta(days=365 * 5))


class ReferralFactory(DjangoModelFactory[Referral]):
    class Meta:
        model = Referral

    participant = factory.SubFactory(ParticipantFactory)
    referred_by = factory.SubFactory(UserFactory)
    referral_date = factory.LazyFunction(lambda: date.today() - timedelta(days=3))
    housing_situation = HousingSituation.ACUTE
    support_need = SupportNeed.BOTH
    description = factory.Faker("sentence", locale="sv_SE")


class ReferralEventFactory(DjangoModelFactory[ReferralEvent]):
    class Meta:
        model = ReferralEvent

    referral = factory.SubFactory(ReferralFactory)
    kind = ReferralEvent.Kind.INFORMATION
    created_by = factory.SelfAttribute("referral.referred_by")
    occurred_on = factory.LazyFunction(date.today)


class EligibilityAssessmentFactory(DjangoModelFactory[EligibilityAssessment]):
    class Meta:
        model = EligibilityAssessment

    referral = factory.SubFactory(ReferralFactory)


class NetworkContactFactory(DjangoModelFactory[NetworkContact]):
    class Meta:
        model = NetworkContact

    participant = factory.SubFactory(ParticipantFactory)
    name = factory.Faker("name", locale="sv_SE")
    relation = NetworkContact.Relation.FAMILY
