"""Planned visits (issue 17 item 2): planning, one tap from a plan to its
logged visit, missed plans, another worker's plans, and the start page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from bostadforst.registry import start_page_queue
from bostadforst.roles import Role
from support import planning
from support.models import PlannedVisit, SupportVisit
from support.participant_page import section_context
from tests.factories import UserFactory

from .factories import PlannedVisitFactory

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def _today_at(hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)


def _log_data(plan, **overrides) -> dict:
    data = {
        "kind": SupportVisit.Kind.HOME_VISIT,
        "started_at": timezone.localtime(plan.planned_at).strftime(LOCAL),
        "duration_minutes": "45",
        "staff": [str(plan.staff_id)],
        "note": "Hembesök enligt plan. Gick igenom posten.",
        "sign": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def other_worker(db):
    return UserFactory(username="ss2", role=Role.SUPPORT_STAFF)


@pytest.fixture
def todays_plan(support_staff, housed):
    return PlannedVisitFactory(participant=housed, staff=support_staff, planned_at=_today_at(0, 5))


def test_a_worker_plans_a_visit_from_the_form(ss_client, support_staff, housed):
    page = ss_client.get(reverse("support:planned-visit-create") + f"?participant={housed.pk}")
    assert page.status_code == 200
    # The caseload first, as in the quick log.
    assert [str(g) for g, _o in page.context["form"].fields["participant"].choices[1:2]] == [
        "Mina deltagare"
    ]
    when = (timezone.localtime() + datetime.timedelta(days=2)).replace(hour=13, minute=30)
    response = ss_client.post(
        reverse("support:planned-visit-create"),
        {
            "participant": housed.pk,
            "planned_at": when.strftime(LOCAL),
            "duration_minutes": "60",
            "staff": support_staff.pk,
            "note": "Ta med blanketterna",
        },
    )
    assert response.status_code == 302
    plan = PlannedVisit.objects.get()
    assert (plan.participant, plan.staff, plan.created_by) == (housed, support_staff, support_staff)
    assert plan.status == PlannedVisit.Status.PLANNED
    assert timezone.localtime(plan.planned_at).strftime(LOCAL) == when.strftime(LOCAL)
    assert plan.history.count() == 1
    assert AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.CREATE, model="support.PlannedVisit", person_id=housed.pk
    ).exists()


def test_a_visit_cannot_be_planned_for_a_day_that_has_passed(ss_client, support_staff, housed):
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    response = ss_client.post(
        reverse("support:planned-visit-create"),
        {
            "participant": housed.pk,
            "planned_at": yesterday.strftime(LOCAL),
            "staff": support_staff.pk,
        },
    )
    assert response.status_code == 400
    assert "Ett besök kan inte planeras för en dag som har passerat." in response.content.decode()
    assert not PlannedVisit.objects.exists()


def test_the_log_page_is_filled_in_from_the_plan(ss_client, support_staff, todays_plan):
    page = ss_client.get(reverse("support:planned-visit-log", kwargs={"pk": todays_plan.pk}))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["started_at"] == timezone.localtime(todays_plan.planned_at)
    assert initial["staff"] == [support_staff.pk]
    assert initial["duration_minutes"] == 45
    assert str(todays_plan.participant) in page.content.decode()


def test_a_plan_becomes_a_logged_visit_in_one_post(ss_client, support_staff, todays_plan):
    url = reverse("support:planned-visit-log", kwargs={"pk": todays_plan.pk})
    response = ss_client.post(url, _log_data(todays_plan))
    assert response.status_code == 302
    visit = SupportVisit.objects.get()
    assert response["Location"] == reverse("support:visit-detail", kwargs={"pk": visit.pk})
    todays_plan.refresh_from_db()
    assert todays_plan.status == PlannedVisit.Status.LOGGED
    assert todays_plan.visit == visit
    assert visit.participant == todays_plan.participant
    assert visit.author == support_staff
    assert visit.signed_at is not None
    assert list(visit.staff.all()) == [support_staff]
    assert todays_plan.history.first().status == PlannedVisit.Status.LOGGED


def test_a_logged_plan_is_not_logged_twice(ss_client, todays_plan):
    url = reverse("support:planned-visit-log", kwargs={"pk": todays_plan.pk})
    assert ss_client.post(url, _log_data(todays_plan)).status_code == 302
    again = ss_client.post(url, _log_data(todays_plan, note="Andra gången"))
    assert again.status_code == 400
    assert "Det planerade besöket är inte längre öppet" in again.content.decode()
    assert SupportVisit.objects.count() == 1


def test_a_plan_for_a_later_day_cannot_be_logged_yet(ss_client, support_staff, housed):
    plan = PlannedVisitFactory(participant=housed, staff=support_staff)  # tomorrow
    response = ss_client.post(
        reverse("support:planned-visit-log", kwargs={"pk": plan.pk}),
        _log_data(plan, started_at=timezone.localtime().strftime(LOCAL)),
    )
    assert response.status_code == 400
    assert "ett besök kan loggas på sin dag" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlannedVisit.Status.PLANNED
    assert not SupportVisit.objects.exists()


def test_missed_plans_are_listed_first_and_marked(ss_client, support_staff, housed):
    missed = PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime() - datetime.timedelta(days=2),
    )
    PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime() - datetime.timedelta(days=3),
        status=PlannedVisit.Status.CANCELLED,
    )
    later = PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime() + datetime.timedelta(days=30),
    )
    response = ss_client.get(reverse("support:planned-visit-list"))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert groups.missed == [missed]
    assert groups.later == [later]
    html = response.content.decode()
    section = re.search(
        r'<section class="card border-danger[^>]*id="missed".*?</section>', html, re.S
    )
    assert section and "1 missat besök: planerat, inte loggat" in section.group(0)
    assert reverse("support:planned-visit-log", kwargs={"pk": missed.pk}) in section.group(0)
    assert html.index('id="missed"') < html.index('id="today-heading"')
    assert missed.is_missed() and not later.is_missed()


def test_the_list_groups_today_this_week_and_later(support_staff, housed):
    today = timezone.localdate()
    day_after = timezone.localtime() + datetime.timedelta(days=1)
    plans = {
        "today": PlannedVisitFactory(
            participant=housed, staff=support_staff, planned_at=_today_at(23)
        ),
        "tomorrow": PlannedVisitFactory(
            participant=housed, staff=support_staff, planned_at=day_after
        ),
    }
    groups = planning.planned_visits_for(user=support_staff, today=today)
    assert groups.today == [plans["today"]]
    in_week = day_after.date() <= planning.week_end(today)
    assert (groups.this_week if in_week else groups.later) == [plans["tomorrow"]]


def test_another_workers_plans_cannot_be_reached(client_for, support_staff, other_worker, housed):
    theirs = PlannedVisitFactory(participant=housed, staff=other_worker, planned_at=_today_at(0, 5))
    client = client_for(support_staff)
    for name in ("planned-visit-detail", "planned-visit-log", "planned-visit-cancel"):
        url = reverse(f"support:{name}", kwargs={"pk": theirs.pk})
        assert client.get(url).status_code == 404, name
    post = client.post(
        reverse("support:planned-visit-cancel", kwargs={"pk": theirs.pk}),
        {"version": theirs.version},
    )
    assert post.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == PlannedVisit.Status.PLANNED
    denied = AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.DENIED, model="support.PlannedVisit", user=support_staff
    )
    assert denied.count() == 4
    assert (
        theirs
        not in planning.planned_visits_for(user=support_staff, today=timezone.localdate()).today
    )
    assert client_for(other_worker).get(theirs.get_absolute_url()).status_code == 200


def test_the_one_who_planned_a_colleagues_visit_still_reaches_it(
    client_for, support_staff, other_worker, housed
):
    plan = PlannedVisitFactory(participant=housed, staff=other_worker, created_by=support_staff)
    assert client_for(support_staff).get(plan.get_absolute_url()).status_code == 200


def test_a_plan_is_cancelled_and_leaves_the_list(ss_client, support_staff, housed):
    plan = PlannedVisitFactory(participant=housed, staff=support_staff)
    url = reverse("support:planned-visit-cancel", kwargs={"pk": plan.pk})
    assert ss_client.get(url).status_code == 200
    assert ss_client.post(url, {"version": plan.version}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlannedVisit.Status.CANCELLED
    groups = planning.planned_visits_for(user=support_staff, today=timezone.localdate())
    assert plan not in groups.this_week + groups.later
    # A cancelled plan cannot be logged any more.
    again = ss_client.post(url, {"version": plan.version})
    assert again.status_code == 400


def test_the_start_page_counts_todays_and_this_weeks_plans(
    client_for, support_staff, housed, django_assert_num_queries
):
    PlannedVisitFactory(participant=housed, staff=support_staff, planned_at=_today_at(23))
    PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime() - datetime.timedelta(days=1),
    )
    today = timezone.localdate()
    support_staff._role_cache = support_staff.role
    with django_assert_num_queries(1):
        items = planning.planned_visit_queue(user=support_staff, today=today)
    by_key = {item.key: item for item in items}
    assert by_key["planned-visits-today"].count == 1
    assert by_key["planned-visits-missed"].count == 1
    assert by_key["planned-visits-missed"].alert
    assert by_key["planned-visits-today"].url == reverse("support:planned-visit-list")
    keys = {item.key for item in start_page_queue(user=support_staff)}
    assert {"planned-visits-today", "planned-visits-missed"} <= keys
    html = client_for(support_staff).get(reverse("home")).content.decode()
    assert "Planerade besök i dag" in html


def test_the_start_page_item_is_the_same_few_queries_at_two_sizes(
    support_staff, housed, django_assert_num_queries
):
    support_staff._role_cache = support_staff.role
    for size in (1, 25):
        for _ in range(size):
            PlannedVisitFactory(participant=housed, staff=support_staff, planned_at=_today_at(23))
        with django_assert_num_queries(1):
            planning.planned_visit_queue(user=support_staff, today=timezone.localdate())


def test_other_roles_get_no_planned_visit_items(social_worker, unit_manager):
    for user in (social_worker, unit_manager):
        assert planning.planned_visit_queue(user=user, today=timezone.localdate()) == []


def test_the_participant_page_shows_the_next_planned_visit(support_staff, housed):
    PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime() + datetime.timedelta(days=9),
    )
    soon = PlannedVisitFactory(participant=housed, staff=support_staff)
    support_staff._role_cache = support_staff.role
    assert section_context(housed, user=support_staff)["next_plan"] == soon


def test_the_plan_form_needs_a_participant_and_a_time_in_swedish(ss_client):
    response = ss_client.post(reverse("support:planned-visit-create"), {TOKEN_FIELD: ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Välj deltagare." in html
    assert "Ange datum och tid för besöket." in html


def test_the_list_page_is_the_same_queries_at_two_sizes(ss_client, support_staff, housed):
    url = reverse("support:planned-visit-list")
    ss_client.get(url)  # warm the session
    counts = []
    for size in (2, 30):
        while PlannedVisit.objects.count() < size:
            n = PlannedVisit.objects.count()
            PlannedVisitFactory(
                participant=housed,
                staff=support_staff,
                planned_at=timezone.localtime() + datetime.timedelta(days=n % 12 - 3),
            )
        with CaptureQueriesContext(connection) as queries:
            assert ss_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
