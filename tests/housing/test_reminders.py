"""The reminder of a tenant without a support worker: the days count from
when the tenancy was last left without one, not from the move-in."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from bostadforst.roles import Role
from housing.reminders import tenants_without_support_worker
from participants.models import Participant, ParticipantStatus
from participants.services import participant_update
from tests.factories import UserFactory
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def three_days(settings):
    settings.REMINDER_UNASSIGNED_DAYS = 3


def dated(participant_pk, *, days_ago):
    """Date the person's latest version ``days_ago`` (as if saved then)."""
    latest = Participant.history.filter(id=participant_pk).latest("history_date")
    then = datetime.combine(TODAY - timedelta(days=days_ago), time(12))
    Participant.history.filter(history_id=latest.history_id).update(
        history_date=timezone.make_aware(then)
    )


def housed(*, worker=None, moved_in_days_ago=400):
    """A tenant since ``moved_in_days_ago``, recorded the day before."""
    p = ParticipantFactory(status=ParticipantStatus.HOUSED, support_worker=worker)
    dated(p.pk, days_ago=moved_in_days_ago + 1)
    return TenancyFactory(participant=p, move_in=TODAY - timedelta(days=moved_in_days_ago))


def set_worker(tenancy, worker, *, days_ago, manager):
    """The team names (or removes, with None) the support worker, ``days_ago``."""
    participant = Participant.objects.get(pk=tenancy.participant_id)
    participant_update(participant=participant, acting_user=manager, support_worker=worker)
    dated(participant.pk, days_ago=days_ago)


def unassign(tenancy, *, days_ago, manager):
    set_worker(tenancy, None, days_ago=days_ago, manager=manager)


def due_keys():
    return {d.object_id: d.event_key for d in tenants_without_support_worker(today=TODAY)}


def test_a_worker_lost_long_after_the_move_in_is_announced_after_the_days_not_at_once():
    manager = UserFactory(role=Role.UNIT_MANAGER)
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    lost_yesterday = housed(worker=worker)
    lost_three_days_ago = housed(worker=worker)
    unassign(lost_yesterday, days_ago=1, manager=manager)
    unassign(lost_three_days_ago, days_ago=3, manager=manager)

    keys = due_keys()

    assert lost_yesterday.pk not in keys
    assert keys[lost_three_days_ago.pk] == (TODAY - timedelta(days=3)).isoformat()


def test_never_assigned_counts_from_the_move_in():
    new = housed(moved_in_days_ago=2)
    settled = housed(moved_in_days_ago=3)
    assigned = housed(worker=UserFactory(role=Role.SUPPORT_STAFF), moved_in_days_ago=30)

    keys = due_keys()

    assert new.pk not in keys and assigned.pk not in keys
    assert keys[settled.pk] == settled.move_in.isoformat()


def test_a_worker_lost_before_the_move_in_counts_from_the_move_in():
    manager = UserFactory(role=Role.UNIT_MANAGER)
    tenancy = housed(worker=UserFactory(role=Role.SUPPORT_STAFF), moved_in_days_ago=3)
    unassign(tenancy, days_ago=20, manager=manager)

    assert due_keys() == {tenancy.pk: tenancy.move_in.isoformat()}


def test_a_second_spell_without_a_worker_is_a_new_event():
    manager = UserFactory(role=Role.UNIT_MANAGER)
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    tenancy = housed()  # no worker since the move-in: the first spell
    first = due_keys()[tenancy.pk]
    set_worker(tenancy, worker, days_ago=30, manager=manager)
    unassign(tenancy, days_ago=5, manager=manager)

    second = due_keys()[tenancy.pk]

    assert first == tenancy.move_in.isoformat()
    assert second == (TODAY - timedelta(days=5)).isoformat()
