"""The computation and the dashboard run a fixed number of queries, whatever
the cohort's size (never one per participant)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from housing.models import ContractType, ExitReason
from participants.models import ReferralStatus, TargetGroup
from reports import retention
from tests.factories import UserFactory
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db

D = date(2024, 6, 30)


def add_people(tenancy, n, offset=0):
    groups = list(TargetGroup.objects.all())
    for i in range(n):
        first = tenancy(
            move_in=f"{2016 + (i + offset) % 7}-0{1 + i % 9}-15",
            move_out="2024-01-10" if i % 3 == 0 else None,
            reason=ExitReason.OTHER_HF_APARTMENT if i % 3 == 0 else "",
            contract_type=ContractType.SOCIAL if i % 2 else ContractType.FIRST_HAND,
        )
        if i % 3 == 0:
            tenancy(
                first.participant,
                move_in="2024-01-10",
                move_out="2024-05-01",
                reason=ExitReason.EVICTED,
            )
        first.participant.target_groups.add(groups[i % len(groups)])


def test_the_computation_takes_five_queries_at_any_size(tenancy, django_assert_num_queries):
    # Tenancy rows, target-group links, landlord names, provider names, and
    # the approved referrals with their referring units.
    add_people(tenancy, 3)
    with django_assert_num_queries(5):
        small = retention.compute(as_of=D, months=12)
    add_people(tenancy, 30, offset=3)
    with django_assert_num_queries(5):
        large = retention.compute(as_of=D, months=12)
    assert large["cohort"] > small["cohort"]


def test_the_dashboard_query_count_does_not_grow_with_the_cohort(
    um_client, tenancy, django_assert_num_queries
):
    add_people(tenancy, 3)
    url = reverse("reports:dashboard")
    um_client.get(url, {"as_of": D.isoformat()})  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert um_client.get(url, {"as_of": D.isoformat()}).status_code == 200
    add_people(tenancy, 30, offset=3)
    with django_assert_num_queries(len(small)):
        assert um_client.get(url, {"as_of": D.isoformat()}).status_code == 200


def add_waiting(n):
    """``n`` approved people: half housed after approval, half still waiting."""
    decider = UserFactory()
    for i in range(n):
        person = ParticipantFactory()
        ReferralFactory(
            participant=person,
            status=ReferralStatus.APPROVED,
            decided_by=decider,
            decided_at=datetime(2023, 1 + i % 12, 10, 9, tzinfo=UTC),
        )
        if i % 2:
            TenancyFactory(
                participant=person, contract_type=ContractType.SOCIAL, move_in=date(2024, 1, 5)
            )


def test_the_dashboard_with_waiting_and_takeover_curves_has_a_fixed_query_count(
    um_client, tenancy, django_assert_num_queries
):
    """The two extra curves add one query (the approvals), at any size."""
    add_people(tenancy, 3)
    add_waiting(2)
    url = reverse("reports:dashboard")
    um_client.get(url, {"as_of": D.isoformat()})  # warm the session
    with CaptureQueriesContext(connection) as small:
        response = um_client.get(url, {"as_of": D.isoformat()})
    assert response.status_code == 200
    assert response.context["figures"]["waiting"][0]["at_risk"] == 2
    add_people(tenancy, 30, offset=3)
    add_waiting(40)
    with django_assert_num_queries(len(small)):
        response = um_client.get(url, {"as_of": D.isoformat()})
    assert response.context["figures"]["waiting"][0]["at_risk"] == 42
    assert response.context["figures"]["takeover_time"][0]["at_risk"] > 20
    text = response.content.decode()
    assert "Väntetid från beviljande till inflyttning" in text
    assert "Tid till förstahandskontrakt" in text
