"""Factories for support tests. Participants, apartments and tenancies are made
here too (fictional, no personnummer) so these tests do not depend on the
other apps' test modules."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from housing.models import Apartment, ContractType, Landlord, Tenancy, TenancyIncident
from participants.models import NetworkContact, Participant, ParticipantStatus
from support.models import (
    ActionPlan,
    Activity,
    Attendance,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    GoalAction,
    LifeArea,
    SupportVisit,
)
from tests.factories import UserFactory


class ParticipantFactory(DjangoModelFactory[Participant]):
    class Meta:
        model = Participant

    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    status = ParticipantStatus.HOUSED


class NetworkContactFactory(DjangoModelFactory[NetworkContact]):
    class Meta:
        model = NetworkContact

    participant = factory.SubFactory(ParticipantFactory)
    name = factory.Faker("name", locale="sv_SE")
    relation = NetworkContact.Relation.PERSONAL_REPRESENTATIVE
    organisation = "PO Skåne"
    consent_to_contact = True


class LandlordFactory(DjangoModelFactory[Landlord]):
    class Meta:
        model = Landlord
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Stödbostäder {n} AB")


class ApartmentFactory(DjangoModelFactory[Apartment]):
    class Meta:
        model = Apartment

    landlord = factory.SubFactory(LandlordFactory)
    address = factory.Sequence(lambda n: f"Stödgatan {n + 1}")
    monthly_rent = Decimal("6000")


class TenancyFactory(DjangoModelFactory[Tenancy]):
    class Meta:
        model = Tenancy

    participant = factory.SubFactory(ParticipantFactory)
    apartment = factory.SubFactory(ApartmentFactory)
    contract_type = ContractType.FIRST_HAND
    move_in = datetime.date(2024, 1, 1)


class IncidentFactory(DjangoModelFactory[TenancyIncident]):
    class Meta:
        model = TenancyIncident

    tenancy = factory.SubFactory(TenancyFactory)
    kind = TenancyIncident.Kind.RENT_ARREARS
    occurred_on = datetime.date(2024, 6, 1)
    description = "Hyran för juni är inte betald."


class ActionPlanFactory(DjangoModelFactory[ActionPlan]):
    class Meta:
        model = ActionPlan

    participant = factory.SubFactory(ParticipantFactory)
    number = 1
    agreed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    review_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    on_breach = "Vid återfall: sviktplats en tid, sedan hem igen."
    created_by = factory.SubFactory(UserFactory)


class GoalFactory(DjangoModelFactory[Goal]):
    class Meta:
        model = Goal

    plan = factory.SubFactory(ActionPlanFactory)
    life_area = LifeArea.HOUSING
    text = "Jag vill ha ordning på hyran."


class GoalActionFactory(DjangoModelFactory[GoalAction]):
    class Meta:
        model = GoalAction

    goal = factory.SubFactory(GoalFactory)
    who = GoalAction.Who.TENANT
    what = "Betala hyran den 25:e varje månad."


class SupportVisitFactory(DjangoModelFactory[SupportVisit]):
    """Saved directly; the rules are tested through the services."""

    class Meta:
        model = SupportVisit
        skip_postgeneration_save = True

    participant = factory.SubFactory(ParticipantFactory)
    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=2))
    duration_minutes = 45
    kind = SupportVisit.Kind.HOME_VISIT
    note = "Hembesök. Pratade om veckans planering."
    author = factory.SubFactory(UserFactory)

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if create:
            self.staff.set(extracted or [self.author])


class CrisisPlaceFactory(DjangoModelFactory[CrisisPlace]):
    class Meta:
        model = CrisisPlace
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Sviktplats {n}")
    capacity = 2


class CrisisPlacementFactory(DjangoModelFactory[CrisisPlacement]):
    class Meta:
        model = CrisisPlacement

    participant = factory.SubFactory(ParticipantFactory)
    place = factory.SubFactory(CrisisPlaceFactory)
    start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    reason = CrisisPlacement.Reason.RELAPSE


class ActivityFactory(DjangoModelFactory[Activity]):
    class Meta:
        model = Activity

    title = "Fiske vid Storsjön"
    date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))


class AttendanceFactory(DjangoModelFactory[Attendance]):
    class Meta:
        model = Attendance

    activity = factory.SubFactory(ActivityFactory)
    participant = factory.SubFactory(ParticipantFactory)
