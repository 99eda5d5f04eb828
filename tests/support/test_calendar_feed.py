"""The worker's .ics calendar feed of planned visits (issue 17 item 2): a
secret address, no personal data, reset invalidates the old address, and the
token never reaches a log line."""

import datetime
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from bostadforst.identity import alias_code
from bostadforst.models import AccessLogEntry
from bostadforst.roles import Role
from support import planning
from support.models import CalendarFeed, PlannedVisit
from tests.factories import UserFactory
from tests.participants.factories import ParticipantFactory

from .factories import PlannedVisitFactory

pytestmark = pytest.mark.django_db

FEED = reverse("support:calendar-feed")


def _new_address(client) -> str:
    """Make a new address through the Kalender page; the token it shows once."""
    response = client.post(reverse("support:calendar"))
    assert response.status_code == 302
    page = client.get(reverse("support:calendar"))
    match = re.search(r'value="(http[^"]+)"', page.content.decode())
    assert match, "the new address is shown right after it was made"
    return match.group(1).split("?token=", 1)[1]


@pytest.fixture
def person(db):
    return ParticipantFactory(
        first_name="Gunhild",
        last_name="Östberg",
        postal_address="Storgatan 17, 831 30 Östersund",
        status="housed",
    )


@pytest.fixture
def plans(support_staff, person):
    now = timezone.localtime()
    return {
        "soon": PlannedVisitFactory(participant=person, staff=support_staff, note="Hemligt"),
        "cancelled": PlannedVisitFactory(
            participant=person,
            staff=support_staff,
            planned_at=now + datetime.timedelta(days=3),
            status=PlannedVisit.Status.CANCELLED,
        ),
        "too_far": PlannedVisitFactory(
            participant=person, staff=support_staff, planned_at=now + datetime.timedelta(days=400)
        ),
        "old": PlannedVisitFactory(
            participant=person, staff=support_staff, planned_at=now - datetime.timedelta(days=90)
        ),
    }


def _events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_holds_codes_and_times_never_personal_data(
    ss_client, support_staff, plans, person
):
    token = _new_address(ss_client)
    response = Client().get(FEED, {"token": token})  # a calendar app: no login
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    text = body.decode()
    pnr = person.personnummer.replace("-", "")
    for secret in (
        person.first_name,
        person.last_name,
        pnr,
        pnr[2:],
        "Storgatan",
        "Hemligt",  # the plan's note stays in the app
        support_staff.last_name,
    ):
        assert secret not in text, secret
    events = _events(body)
    assert len(events) == 2  # the visit soon and the cancelled one; not too old or too far
    code = alias_code("person", person.pk)
    soon = next(e for e in events.values() if e["STATUS"] == "CONFIRMED")
    assert str(soon["SUMMARY"]) == f"Besök {code}"
    assert soon.decoded("DTSTART") == plans["soon"].planned_at
    assert soon.decoded("DTEND") - soon.decoded("DTSTART") == datetime.timedelta(minutes=45)
    cancelled = next(e for e in events.values() if e["STATUS"] == "CANCELLED")
    assert str(cancelled["SUMMARY"]) == f"Besök {code}"


def test_the_uid_of_a_plan_stays_the_same(ss_client, plans):
    token = _new_address(ss_client)
    first = set(_events(Client().get(FEED, {"token": token}).content))
    plans["soon"].planned_at += datetime.timedelta(hours=2)
    plans["soon"].save()
    second = set(_events(Client().get(FEED, {"token": token}).content))
    assert first == second
    assert str(plans["soon"].pk) not in {uid.split("@")[0] for uid in first}


def test_a_reset_invalidates_the_old_address_at_once(ss_client, support_staff, plans):
    old = _new_address(ss_client)
    assert Client().get(FEED, {"token": old}).status_code == 200
    new = _new_address(ss_client)
    assert new != old
    assert Client().get(FEED, {"token": old}).status_code == 404
    assert Client().get(FEED, {"token": new}).status_code == 200
    assert CalendarFeed.objects.count() == 1
    feed = CalendarFeed.objects.get()
    assert old not in feed.token_hash and new not in feed.token_hash
    assert feed.history.count() == 2  # made, then reset: both in the history


def test_the_address_is_shown_once(ss_client):
    _new_address(ss_client)
    again = ss_client.get(reverse("support:calendar")).content.decode()
    assert "?token=" not in again
    assert "Du har en kalenderadress" in again


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 500, "ä" * 43, "\x00" * 43])
def test_a_wrong_token_is_a_404(client, ss_client, token):
    _new_address(ss_client)
    # A NUL byte is refused before any view (UnstorableInputMiddleware): 400.
    expected = 400 if "\x00" in token else 404
    assert client.get(FEED, {"token": token}).status_code == expected


def test_a_feed_of_someone_who_left_the_team_is_a_404(client_for, plans):
    leaver = UserFactory(username="leaver", role=Role.SUPPORT_STAFF)
    token = _new_address(client_for(leaver))
    assert Client().get(FEED, {"token": token}).status_code == 200
    leaver.is_active = False
    leaver.save()
    assert Client().get(FEED, {"token": token}).status_code == 404


def test_only_the_workers_own_plans_are_in_the_feed(client_for, support_staff, plans, person):
    colleague = UserFactory(username="colleague", role=Role.SUPPORT_STAFF)
    theirs = PlannedVisitFactory(participant=person, staff=colleague)
    token = _new_address(client_for(support_staff))
    events = _events(Client().get(FEED, {"token": token}).content)
    assert all(str(theirs.pk) != uid.split("@")[0].rsplit("-", 1)[-1] for uid in events)
    assert len(events) == 2


def test_a_fetch_is_logged_once_without_naming_anyone(ss_client, support_staff, plans):
    token = _new_address(ss_client)
    before = AccessLogEntry.objects.count()
    Client().get(FEED, {"token": token})
    rows = AccessLogEntry.objects.order_by("pk")[before:]
    assert [(r.action, r.model, r.person_id, r.user_id) for r in rows] == [
        (AccessLogEntry.Action.EXPORT, "support.CalendarFeed", None, support_staff.pk)
    ]


def test_the_token_is_never_in_a_log_line(ss_client, plans, caplog):
    caplog.set_level(logging.DEBUG)
    # django.request does not propagate to the root logger (settings.LOGGING),
    # where caplog listens: its lines are captured here directly.
    # A test earlier on the same worker may have configured logging again
    # (a Celery worker's setup_logging): the logger is enabled at WARNING here.
    request_logger = logging.getLogger("django.request")
    was_disabled, request_logger.disabled = request_logger.disabled, False
    was_level = request_logger.level
    request_logger.setLevel(logging.WARNING)
    request_logger.addHandler(caplog.handler)
    try:
        token = _new_address(ss_client)
        Client().get(FEED, {"token": token})
        Client().get(FEED, {"token": token[:-1] + "A"})  # a 404, which django.request logs
    finally:
        request_logger.removeHandler(caplog.handler)
        request_logger.disabled = was_disabled
        request_logger.setLevel(was_level)
    assert "Not Found: " + FEED in caplog.text
    assert token not in caplog.text
    assert token[:-1] not in caplog.text


def test_gunicorns_access_log_leaves_out_the_query_string():
    """The token is in the query string because Gunicorn logs the path
    alone (``%(U)s``); ``%(r)s`` (the request line) would log the token."""
    conf = (Path(settings.BASE_DIR) / "gunicorn.conf.py").read_text()
    fmt = re.search(r"access_log_format = (.+)", conf).group(1)
    assert "%(U)s" in fmt
    assert "%(r)s" not in fmt and "%(q)s" not in fmt and "%(a)s" not in fmt


def test_feed_plans_are_one_query(support_staff, plans, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(planning.calendar_feed_plans(user=support_staff, now=timezone.now()))


def test_the_calendar_page_is_for_the_team_only(sw_client):
    assert sw_client.get(reverse("support:calendar")).status_code == 403
