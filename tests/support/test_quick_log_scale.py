"""The quick-log page at municipal scale: its work does not grow with the data.

The picker shows a preselected person, the worker's caseload, the people the
worker visited recently, then others up to a cap; the staff box the chosen and
the worker, the participant's support worker and recent co-workers, then the
rest of the team up to a cap. A programme of a usual size sees everyone; a
large one a bounded list, and everyone else in scope is still accepted by id.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bostadforst.roles import Role
from participants.models import ParticipantStatus
from support.models import SupportVisit
from tests.factories import UserFactory
from tests.participants.factories import ParticipantFactory

from .factories import SupportVisitFactory
from .test_visits import _quick_post

URL = "support:visit-quick-log"


def _page(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(URL) + query)
    assert response.status_code == 200
    html = response.content.decode()
    picker = re.search(r'<select name="participant".*?</select>', html, re.S)
    options = len(re.findall(r"<option\b", picker.group(0)))
    checkboxes = len(re.findall(r'<input type="checkbox"[^>]*name="staff"', html))
    return len(queries), options, checkboxes, html


def _grow(n: int) -> None:
    """Other people's participants and staff: what a municipality adds."""
    ParticipantFactory.create_batch(n, status=ParticipantStatus.HOUSED)
    for _ in range(n // 2):
        UserFactory(role=Role.SUPPORT_STAFF)


@pytest.fixture
def small_caps(monkeypatch):
    """Caps a test can exceed with a few rows (the real ones are asserted)."""
    import support.selectors as selectors

    assert selectors.PICKER_CAP >= 100 and selectors.STAFF_PICKER_CAP >= 20
    monkeypatch.setattr(selectors, "PICKER_CAP", 5)
    monkeypatch.setattr(selectors, "STAFF_PICKER_CAP", 3)


@pytest.mark.django_db
def test_quick_log_page_does_the_same_work_with_few_and_many_people(ss_client, housed, small_caps):
    _grow(10)
    few = _page(ss_client)
    _grow(60)
    many = _page(ss_client)
    assert many[:3] == few[:3]
    assert few[1:3] == (5 + 1, 3)  # "Choose participant…" and five people; three staff


@pytest.mark.django_db
def test_the_recent_visits_and_the_staff_options_are_read_once_a_page(
    ss_client, support_staff, housed
):
    visit = SupportVisitFactory(
        participant=housed, author=support_staff, started_at=timezone.now(), staff=[support_staff]
    )
    assert visit.staff.exists()
    with CaptureQueriesContext(connection) as queries:
        assert ss_client.get(reverse(URL)).status_code == 200
    unions = [q["sql"] for q in queries.captured_queries if " UNION " in q["sql"].upper()]
    staff_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "support_supportvisit_staff"."user_id"')
    ]
    assert len(unions) == 1
    assert len(staff_reads) == 1, staff_reads


@pytest.mark.django_db
def test_a_usual_programme_sees_every_participant_and_the_whole_team(ss_client, support_staff):
    people = ParticipantFactory.create_batch(4, status="housed")
    team = [UserFactory(role=Role.SUPPORT_STAFF) for _ in range(3)]
    _q, _o, _c, html = _page(ss_client)
    assert 'label="Övriga hyresgäster"' in html
    for person in people:
        assert f'<option value="{person.pk}">{person}</option>' in html
    boxes = set(re.findall(r'name="staff" value="(\d+)"', html))
    assert boxes == {str(u.pk) for u in [support_staff, *team]}


@pytest.mark.django_db
def test_the_caseload_and_recent_people_come_before_the_cap_cuts(
    ss_client, support_staff, small_caps
):
    mine = ParticipantFactory.create_batch(2, support_worker=support_staff, status="housed")
    visited = ParticipantFactory(last_name="Östman", status="housed")
    SupportVisitFactory(participant=visited, author=support_staff)
    for _ in range(8):
        ParticipantFactory(last_name="Andersson", status="housed")
    _q, options, _c, html = _page(ss_client)
    assert options == 5 + 1
    for person in [*mine, visited]:
        assert f'<option value="{person.pk}">{person}</option>' in html


@pytest.mark.django_db
def test_recently_visited_participants_are_offered_and_old_ones_not(
    ss_client, support_staff, housed
):
    recent = ParticipantFactory(first_name="Rakel", status="housed")
    old = ParticipantFactory(first_name="Gammel", status="housed")
    SupportVisitFactory(participant=recent, author=support_staff)
    SupportVisitFactory(
        participant=old,
        author=support_staff,
        started_at=timezone.now() - datetime.timedelta(days=120),
    )
    stranger = ParticipantFactory(first_name="Främling", status="housed")
    _q, _o, _c, html = _page(ss_client)
    assert 'label="Mina deltagare"' in html and 'label="Nyligen besökta"' in html
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.S))
    assert f'value="{recent.pk}"' in groups["Nyligen besökta"]
    assert f'value="{old.pk}"' in groups["Övriga hyresgäster"]  # 120 days ago: not recent
    assert f'value="{stranger.pk}"' in groups["Övriga hyresgäster"]
    # The note says where the others are logged from, with a link.
    assert "Logga besöket från deltagarens sida" in html
    assert f'href="{reverse("participants:participant-list")}"' in html


@pytest.mark.django_db
def test_a_preselected_participant_outside_the_caseload_is_shown_and_chosen(ss_client, housed):
    other = ParticipantFactory(status="housed")
    _q, _o, _c, html = _page(ss_client, f"?participant={other.pk}")
    assert f'<option value="{other.pk}" selected>{other}</option>' in html


@pytest.mark.django_db
def test_a_participant_not_in_the_picker_can_still_be_logged_by_id(
    ss_client, support_staff, housed, small_caps
):
    for _ in range(6):
        ParticipantFactory(last_name="Andersson", status="housed")
        UserFactory(role=Role.SUPPORT_STAFF, first_name="Anna")
    other = ParticipantFactory(last_name="Öberg", status="housed")
    stranger = UserFactory(role=Role.SUPPORT_STAFF, first_name="Örjan")
    _q, _o, _c, html = _page(ss_client)
    assert f'value="{other.pk}"' not in html
    assert f'value="{stranger.pk}"' not in html
    response = ss_client.post(
        reverse(URL), _quick_post(other, staff=[support_staff.pk, stranger.pk])
    )
    assert response.status_code == 302
    visit = SupportVisit.objects.get(participant=other)
    assert set(visit.staff.all()) == {support_staff, stranger}


@pytest.mark.django_db
def test_staff_box_offers_the_participants_worker_recent_co_workers_and_the_chosen(
    ss_client, support_staff, housed, small_caps
):
    worker = UserFactory(role=Role.SUPPORT_STAFF, first_name="Wilma")
    theirs = ParticipantFactory(status="housed", support_worker=worker)
    co_worker = UserFactory(role=Role.SUPPORT_STAFF, first_name="Kalle")
    SupportVisitFactory(participant=housed, author=support_staff, staff=[support_staff, co_worker])
    for _ in range(4):
        UserFactory(role=Role.SUPPORT_STAFF, first_name="Anna")  # before them by name
    stranger = UserFactory(role=Role.SUPPORT_STAFF, first_name="Sixten")
    _q, _o, _c, html = _page(ss_client, f"?participant={theirs.pk}")
    boxes = set(re.findall(r'name="staff" value="(\d+)"', html))
    assert boxes == {str(support_staff.pk), str(worker.pk), str(co_worker.pk)}
    # A refused post keeps what was ticked, even someone not usually shown.
    data = _quick_post(theirs, staff=[stranger.pk], duration_minutes="-1")
    response = ss_client.post(reverse(URL), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(rf'name="staff" value="{stranger.pk}"[^>]*checked', html)
