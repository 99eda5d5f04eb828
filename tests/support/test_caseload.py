"""The support worker's "my participants" page and the query budgets of the
lists and the timeline (the same number of queries at two data sizes)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from participants.models import ParticipantStatus
from support import services
from support.models import Activity, SupportVisit
from support.participant_page import TIMELINE_SOURCES, section_context
from support.selectors import ReviewStatus, caseload_for_user
from tests.housing.factories import IncidentFactory, TenancyFactory
from tests.participants.factories import ParticipantFactory

from .factories import (
    ActionPlanFactory,
    AttendanceFactory,
    CrisisPlacementFactory,
    SupportVisitFactory,
)


def _caseload_member(worker, *, visits: int, incidents: int, with_plan=True):
    participant = ParticipantFactory(support_worker=worker)
    tenancy = TenancyFactory(participant=participant)
    for n in range(visits):
        SupportVisitFactory(
            participant=participant,
            author=worker,
            started_at=timezone.now() - datetime.timedelta(days=3 + n),
        )
    for _ in range(incidents):
        IncidentFactory(tenancy=tenancy)
    if with_plan:
        ActionPlanFactory(participant=participant, created_by=worker)
    return participant


@pytest.mark.django_db
def test_my_participants_shows_last_visit_days_since_incidents_and_review(ss_client, support_staff):
    today = timezone.localdate()
    participant = _caseload_member(support_staff, visits=2, incidents=2)
    IncidentFactory(tenancy=participant.tenancies.get(), resolved_on=datetime.date(2024, 7, 1))
    SupportVisitFactory(  # a missed visit is not a contact
        participant=participant,
        author=support_staff,
        kind=SupportVisit.Kind.MISSED,
        started_at=timezone.now() - datetime.timedelta(hours=1),
    )
    no_plan = _caseload_member(support_staff, visits=0, incidents=0, with_plan=False)
    ParticipantFactory(support_worker=support_staff, status=ParticipantStatus.EXITED)
    _caseload_member(ParticipantFactory().support_worker or _other_worker(), visits=1, incidents=0)

    rows = caseload_for_user(user=support_staff, today=today)
    assert [r.participant for r in rows] == [no_plan, participant]
    row = rows[1]
    assert row.days_since == 3
    assert row.open_incidents == 2
    assert row.review_status == ReviewStatus.OK
    assert rows[0].days_since is None and rows[0].review_status == ReviewStatus.MISSING

    html = ss_client.get(reverse("support:my-participants")).content.decode()
    assert str(participant) in html and str(no_plan) in html
    assert "2 öppna" in html and "Inget besök än" in html


def _other_worker():
    from bostadforst.roles import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.SUPPORT_STAFF)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_my_participants_query_count_is_constant(ss_client, support_staff):
    url = reverse("support:my-participants")
    _caseload_member(support_staff, visits=1, incidents=1)
    ss_client.get(url)  # warm the session and the role cache
    small = _queries(lambda: ss_client.get(url))
    for _ in range(8):
        _caseload_member(support_staff, visits=3, incidents=2)
    CrisisPlacementFactory(participant=support_staff.caseload.first())
    large = _queries(lambda: ss_client.get(url))
    assert small == large
    assert len(caseload_for_user(user=support_staff, today=timezone.localdate())) == 9


@pytest.mark.django_db
def test_caseload_selector_is_one_query(support_staff, django_assert_num_queries):
    for _ in range(5):
        _caseload_member(support_staff, visits=2, incidents=1)
    with django_assert_num_queries(1):
        caseload_for_user(user=support_staff, today=timezone.localdate())


def _fill_timeline(participant, worker, n):
    for i in range(n):
        SupportVisitFactory(
            participant=participant,
            author=worker,
            started_at=timezone.now() - datetime.timedelta(days=i + 1),
        )
        AttendanceFactory(participant=participant)
    first = participant.action_plans.count() + 1
    for i in range(n // 3):
        ActionPlanFactory(participant=participant, number=first + i, created_by=worker)
        CrisisPlacementFactory(
            participant=participant,
            start=datetime.date(2020 - n, 1, 1) + datetime.timedelta(days=10 * i),
            end=datetime.date(2020 - n, 1, 5) + datetime.timedelta(days=10 * i),
        )


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_timeline_sources_use_a_fixed_number_of_queries(
    support_staff, housed, size, django_assert_num_queries
):
    _fill_timeline(housed, support_staff, size)
    support_staff._role_cache = support_staff.role
    with django_assert_num_queries(len(TIMELINE_SOURCES)):
        events = [e for s in TIMELINE_SOURCES for e in s(housed, user=support_staff, limit=20)]
    assert events


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_support_section_uses_a_fixed_number_of_queries(
    support_staff, housed, size, django_assert_num_queries
):
    _fill_timeline(housed, support_staff, size)
    support_staff._role_cache = support_staff.role
    with django_assert_num_queries(5):  # the next planned visit is the fifth
        section_context(housed, user=support_staff)


@pytest.mark.django_db
def test_participant_page_query_count_is_the_same_at_two_sizes(ss_client, support_staff, housed):
    url = reverse("participants:participant-detail", kwargs={"pk": housed.pk})
    _fill_timeline(housed, support_staff, 3)
    ss_client.get(url)
    small = _queries(lambda: ss_client.get(url))
    _fill_timeline(housed, support_staff, 30)
    large = _queries(lambda: ss_client.get(url))
    assert small == large


@pytest.mark.django_db
def test_timeline_is_newest_first_within_each_source(support_staff, housed):
    _fill_timeline(housed, support_staff, 5)
    support_staff._role_cache = support_staff.role
    for source in TIMELINE_SOURCES:
        events = source(housed, user=support_staff, limit=50)
        keys = [e.sort_datetime[:2] for e in events]
        assert keys == sorted(keys, reverse=True)


@pytest.mark.django_db
def test_participation_is_counted_per_participant(ss_client, support_staff, housed):
    activity = services.activity_create(
        title="Matlagning", date=timezone.localdate(), acting_user=support_staff
    )
    other = ParticipantFactory()
    services.activity_set_attendance(
        activity=activity, participants=[housed, other], acting_user=support_staff
    )
    services.activity_set_attendance(
        activity=activity, participants=[housed], acting_user=support_staff
    )
    assert list(activity.attendances.values_list("participant", flat=True)) == [housed.pk]
    response = ss_client.post(
        reverse("support:activity-attendance", kwargs={"pk": activity.pk}),
        {"participants": [housed.pk, other.pk]},
    )
    assert response.status_code == 302
    html = ss_client.get(reverse("support:activity-list")).content.decode()
    assert "Matlagning" in html and str(other) in html
    assert Activity.objects.get().attendances.count() == 2


@pytest.mark.django_db
def test_an_activity_needs_a_title_and_a_date(ss_client):
    response = ss_client.post(reverse("support:activity-create"), {"title": "", "date": ""})
    assert response.status_code == 400
    assert not Activity.objects.exists()
