"""Factories for participants, referrals and network contacts (fictional
people only). The other apps' factories and tests import these; see STYLE.md
"Layering"."""

import random
from datetime import date, timedelta

import factory
from factory.django import DjangoModelFactory

from bostadforst.gallring import RESEARCH_DAYS
from participants.models import (
    Consent,
    ConsentGivenAs,
    ConsentPurpose,
    HousingSituation,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    ReferringUnit,
    SupportNeed,
)
from participants.personnummer import generate

from ..factories import UserFactory

_rng = random.Random(20261123)


def fictional_personnummer(rng: random.Random | None = None, *, day: int | None = None) -> str:
    """A made-up personnummer (``participants.personnummer.generate``), born 1960–1989.

    Born on ``day`` of some month when given; otherwise never on the 5th, 15th
    or 25th, which the research exemption keeps from culling (gallring), so a
    factory-made person is culled like anyone else unless a test asks.
    """
    rng = rng or _rng
    while True:
        born = date(rng.randint(1960, 1989), rng.randint(1, 12), day or rng.randint(1, 28))
        if day or born.day not in RESEARCH_DAYS:
            return generate(rng, born_from=born, born_to=born)


class ParticipantFactory(DjangoModelFactory[Participant]):
    """An approved participant: the state in which housing and support meet
    one (an apartment can be let to them, they are on caseloads).

    ``ReferralFactory`` makes referred ones, ``TenancyFactory`` housed ones;
    ``imported=True`` makes one as the cohort import does (the municipality's
    reference, no personnummer).
    """

    class Meta:
        model = Participant

    class Params:
        imported = factory.Trait(
            personnummer=None,
            external_ref=factory.Sequence(lambda n: f"REF-{n:05d}"),
            phone="",
            registered_since=None,
        )

    personnummer = factory.LazyFunction(fictional_personnummer)
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    phone = factory.Faker("phone_number", locale="sv_SE")
    registered_since = factory.LazyFunction(lambda: date.today() - timedelta(days=365 * 5))
    status = ParticipantStatus.APPROVED


class ReferringUnitFactory(DjangoModelFactory[ReferringUnit]):
    class Meta:
        model = ReferringUnit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Stadsdelsförvaltning {n}")
    kind = ReferringUnit.Kind.DISTRICT


class ReferralFactory(DjangoModelFactory[Referral]):
    class Meta:
        model = Referral

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.REFERRED)
    referred_by = factory.SubFactory(UserFactory)
    referral_date = factory.LazyFunction(lambda: date.today() - timedelta(days=3))
    housing_situation = HousingSituation.ACUTE
    support_need = SupportNeed.BOTH
    description = factory.Faker("sentence", locale="sv_SE")


class NetworkContactFactory(DjangoModelFactory[NetworkContact]):
    class Meta:
        model = NetworkContact

    participant = factory.SubFactory(ParticipantFactory)
    name = factory.Faker("name", locale="sv_SE")
    relation = NetworkContact.Relation.FAMILY


class ConsentFactory(DjangoModelFactory[Consent]):
    """A written consent to contact one of the person's network contacts,
    given a month ago and holding until withdrawn (``expires_on`` unset)."""

    class Meta:
        model = Consent

    participant = factory.SubFactory(ParticipantFactory)
    purpose = ConsentPurpose.CONTACT
    recipient_contact = factory.SubFactory(
        NetworkContactFactory, participant=factory.SelfAttribute("..participant")
    )
    given_as = ConsentGivenAs.WRITTEN
    given_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    recorded_by = factory.SubFactory(UserFactory)
