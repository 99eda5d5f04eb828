"""Factories for action plans, support visits, crisis placements and
activities. Participants, tenancies and incidents come from the participants
and housing factories; the participants made here are housed."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from participants.models import ParticipantStatus
from support.models import (
    ActionPlan,
    Activity,
    Attendance,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    LifeArea,
    OutcomeFollowUp,
    PlannedVisit,
    SupportVisit,
)
from tests.factories import UserFactory
from tests.participants.factories import ParticipantFactory


class ActionPlanFactory(DjangoModelFactory[ActionPlan]):
    class Meta:
        model = ActionPlan

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
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


class SupportVisitFactory(DjangoModelFactory[SupportVisit]):
    """Saved directly; the rules are tested through the services."""

    class Meta:
        model = SupportVisit
        skip_postgeneration_save = True

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
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

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
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
    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)


class PlannedVisitFactory(DjangoModelFactory[PlannedVisit]):
    """A plan for tomorrow at ten, by and for one team member (``staff``)."""

    class Meta:
        model = PlannedVisit

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
    staff = factory.SubFactory(UserFactory)
    planned_at = factory.LazyFunction(
        lambda: (timezone.localtime() + datetime.timedelta(days=1)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
    )
    duration_minutes = 45
    visit = None
    # A plan linked to its visit is a logged one (the model's constraint).
    status = factory.LazyAttribute(
        lambda plan: PlannedVisit.Status.LOGGED if plan.visit else PlannedVisit.Status.PLANNED
    )
    created_by = factory.LazyAttribute(lambda plan: plan.staff)


class OutcomeFollowUpFactory(DjangoModelFactory[OutcomeFollowUp]):
    """Saved directly; the point and the rules are tested through
    ``support.outcomes.follow_up_record``."""

    class Meta:
        model = OutcomeFollowUp

    participant = factory.SubFactory(ParticipantFactory, status=ParticipantStatus.HOUSED)
    date = factory.LazyFunction(timezone.localdate)
    point_months = 0
    occupation = "day_activity"
    income_source = "financial_assistance"
    addiction_care = "yes"
    psychiatric_care = "no"
    quality_of_life = 6
    own_words = "Det är lugnare nu."
    contract_form = "social"
    recorded_by = factory.SubFactory(UserFactory)
