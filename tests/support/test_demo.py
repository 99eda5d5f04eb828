"""The support part of the demo data: a year of support per housed participant,
created once."""

import io

import pytest
from django.core.management import call_command

from participants.models import Participant, ParticipantStatus
from support import demo
from support.models import (
    ActionPlan,
    Activity,
    CrisisPlace,
    CrisisPlacement,
    OutcomeFollowUp,
    SupportVisit,
)
from tests.factories import UserFactory
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory


def _counts():
    return [
        m.objects.count()
        for m in (ActionPlan, SupportVisit, CrisisPlace, CrisisPlacement, Activity, OutcomeFollowUp)
    ]


@pytest.mark.django_db
def test_support_demo_seeds_a_year_of_support_and_runs_twice_without_change(support_staff):
    for _ in range(6):
        TenancyFactory(participant=ParticipantFactory(support_worker=support_staff))
    users = {"boendestodjare": support_staff, "admin": UserFactory(username="admin")}
    demo.seed(users=users)
    first = _counts()
    demo.seed(users=users)
    assert _counts() == first
    # Outcome follow-ups for the caseload, every six months since the move-in
    # (TenancyFactory: 2024-01-01).
    assert first[-1] >= 6 * 3
    housed = Participant.objects.filter(status=ParticipantStatus.HOUSED)
    for participant in housed:
        assert participant.action_plans.exists()
        visits = participant.visits.count()
        assert 20 <= visits <= 50  # 2–4 a month, about a year
        assert all(v.is_locked for v in participant.visits.all())
    # One history row per demo visit, its staff in the snapshot.
    visit = SupportVisit.objects.order_by("pk").first()
    (record,) = visit.history.all()
    assert record.history_type == "+"
    assert list(record.staff.values_list("user_id", flat=True)) == [support_staff.pk]
    assert CrisisPlace.objects.count() == 3
    assert CrisisPlacement.objects.filter(end__isnull=True).count() == 1
    assert CrisisPlacement.objects.filter(end__isnull=False).count() == 2
    assert Activity.objects.filter(attendances__isnull=False).exists()


@pytest.mark.django_db
def test_seed_demo_command_includes_support_data():
    call_command("seed_demo", "--password", "demo-lösen-123", stdout=io.StringIO())
    assert SupportVisit.objects.exists() and ActionPlan.objects.exists()
