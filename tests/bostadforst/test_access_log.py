"""The access log: reads, writes and denials are logged; the log cannot be
changed; managers review it with filters, flags and CSV; reading it is logged."""

import csv
import datetime
import io
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from bostadforst import registry
from bostadforst.access_log import log_access
from bostadforst.models import AccessLogEntry
from bostadforst.records import record_get
from participants.models import Participant
from tests.participants.factories import ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db
Action = AccessLogEntry.Action


def request_as(user, view_name="participants:participant-detail"):
    request = RequestFactory().get("/x/", REMOTE_ADDR="10.1.2.3")
    request.user = user
    request.resolver_match = type("M", (), {"view_name": view_name})()
    return request


def test_a_read_through_the_scoped_helper_is_logged_with_user_role_person_and_ip(support_staff):
    person = ParticipantFactory()
    record_get(request_as(support_staff), Participant.objects.all(), pk=person.pk)
    row = AccessLogEntry.objects.get(action=Action.READ)
    assert (row.user, row.role, row.person_id, row.ip) == (
        support_staff,
        "support_staff",
        person.pk,
        "10.1.2.3",
    )
    assert row.model == "participants.Participant"
    assert row.view_name == "participants:participant-detail"


def test_a_record_outside_the_users_scope_is_a_404_and_logged_as_denied(social_worker):
    person = ParticipantFactory()
    with pytest.raises(Http404):
        record_get(request_as(social_worker), Participant.objects.none(), pk=person.pk)
    row = AccessLogEntry.objects.get(action=Action.DENIED)
    assert (row.person_id, row.user, row.model) == (
        person.pk,
        social_worker,
        "participants.Participant",
    )


def test_a_missing_record_is_the_same_404_without_a_denied_row(social_worker):
    with pytest.raises(Http404):
        record_get(request_as(social_worker), Participant.objects.all(), pk=987654)
    with pytest.raises(Http404):
        record_get(request_as(social_worker), Participant.objects.all(), pk="x")
    assert not AccessLogEntry.objects.filter(action=Action.DENIED).exists()


def test_creating_and_changing_a_case_record_writes_log_rows_naming_the_person(support_staff):
    person = ParticipantFactory.build()
    person._history_user = support_staff
    person.save()
    person.phone = "070-000 00 00"
    person._history_user = support_staff
    person.save()
    rows = list(AccessLogEntry.objects.order_by("pk").values_list("action", "person_id", "user"))
    assert rows == [
        (Action.CREATE, person.pk, support_staff.pk),
        (Action.UPDATE, person.pk, support_staff.pk),
    ]


def test_a_change_to_a_related_record_names_the_person_it_belongs_to(social_worker):
    referral = ReferralFactory(referred_by=social_worker)
    row = AccessLogEntry.objects.filter(model="participants.Referral").get()
    assert row.person_id == referral.participant_id


def test_the_log_refuses_update_and_delete_through_the_orm(unit_manager):
    row = log_access(action=Action.READ, user=unit_manager, model="x")
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.filter(pk=row.pk).update(model="y")
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().delete()


def test_the_admin_shows_the_log_read_only(administrator):
    model_admin = admin.site._registry[AccessLogEntry]
    request = RequestFactory().get("/")
    request.user = administrator
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


# The database's own refusals (the trigger, the app's role): test_db_app_role.py.


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
def test_deleting_a_user_keeps_their_log_rows_with_the_username(social_worker):
    log_access(action=Action.READ, user=social_worker, model="x")
    social_worker.delete()
    row = AccessLogEntry.objects.get()
    assert (row.user_id, row.username) == (None, "sw")


# --- The manager's review page ------------------------------------------------


def entry(user, person_id, at, action=Action.READ):
    return AccessLogEntry.objects.create(
        user=user,
        username=user.username,
        role=user.role or "",
        action=action,
        model="participants.Participant",
        person_id=person_id,
        at=at,
    )


def test_a_manager_answers_who_opened_this_persons_record_last_month(
    um_client, social_worker, support_staff
):
    now = timezone.now()
    last_month = now - datetime.timedelta(days=30)
    entry(social_worker, 41, last_month)
    entry(support_staff, 41, last_month + datetime.timedelta(days=1))
    entry(support_staff, 42, last_month)  # another person
    entry(support_staff, 41, now - datetime.timedelta(days=90))  # outside the period
    response = um_client.get(
        reverse("bostadforst:access-log"),
        {
            "person": 41,
            "date_from": (last_month - datetime.timedelta(days=2)).date().isoformat(),
            "date_to": (last_month + datetime.timedelta(days=2)).date().isoformat(),
        },
    )
    assert response.status_code == 200
    shown = [(e.username, e.person_id) for e, _flags in response.context["rows"]]
    assert shown == [("ss", 41), ("sw", 41)]


def test_filtering_by_user(um_client, social_worker, support_staff):
    entry(social_worker, 1, timezone.now())
    entry(support_staff, 2, timezone.now())
    response = um_client.get(reverse("bostadforst:access-log"), {"user": social_worker.pk})
    assert [e.user for e, _f in response.context["rows"]] == [social_worker]


def test_reading_the_log_is_itself_logged(um_client, unit_manager):
    um_client.get(reverse("bostadforst:access-log"), {"person": 77})
    row = AccessLogEntry.objects.filter(user=unit_manager).exclude(action=Action.LOGIN).get()
    assert (row.action, row.model, row.person_id, row.view_name) == (
        Action.READ,
        "bostadforst.AccessLogEntry",
        77,
        "bostadforst:access-log",
    )


def test_an_invalid_filter_answers_400_and_shows_nothing(um_client, social_worker):
    entry(social_worker, 1, timezone.now())
    response = um_client.get(
        reverse("bostadforst:access-log"), {"date_from": "2026-02-02", "date_to": "2026-01-01"}
    )
    assert response.status_code == 400
    assert response.context["rows"] == []


def test_reads_outside_the_readers_caseload_are_flagged(
    um_client, social_worker, support_staff, monkeypatch
):
    def caseload(*, readers):
        return {u.pk: {1} & ids for u, ids in readers.items() if u == support_staff}

    monkeypatch.setattr(registry, "caseload_checks", registry.Registry([caseload]))
    entry(support_staff, 1, timezone.now())
    entry(support_staff, 2, timezone.now())
    entry(social_worker, 3, timezone.now())  # no check has an opinion: never flagged
    response = um_client.get(reverse("bostadforst:access-log"))
    flags = {
        e.person_id: [str(f) for f in fl]
        for e, fl in response.context["rows"]
        if e.action == Action.READ
    }
    assert flags == {1: [], 2: ["utanför egen ärendelista"], 3: []}
    assert "utanför egen ärendelista" in response.content.decode()


def test_many_people_read_in_a_short_time_are_flagged(
    um_client, support_staff, social_worker, settings, monkeypatch
):
    monkeypatch.setattr(registry, "caseload_checks", registry.Registry())
    settings.ACCESS_LOG_BURST_PERSONS = 3
    settings.ACCESS_LOG_BURST_MINUTES = 10
    start = timezone.now() - datetime.timedelta(hours=1)
    for minute in range(5):  # 5 people in 5 minutes
        entry(support_staff, 100 + minute, start + datetime.timedelta(minutes=minute))
    for minute in range(5):  # 5 people, one every 20 minutes: fine
        entry(social_worker, 200 + minute, start - datetime.timedelta(minutes=20 * minute + 1))
    response = um_client.get(reverse("bostadforst:access-log"))
    flagged = sorted(e.person_id for e, fl in response.context["rows"] if fl)
    assert flagged == [103, 104]  # the 4th and 5th distinct person within 10 minutes


def test_review_page_query_count_does_not_grow_with_rows(um_client, support_staff):
    url = reverse("bostadforst:access-log")
    for i in range(3):
        entry(support_staff, i + 1, timezone.now())
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as small:
        um_client.get(url)
    for i in range(40):
        entry(support_staff, i + 10, timezone.now())
    with CaptureQueriesContext(conn) as large:
        um_client.get(url)
    assert len(small) == len(large)


def test_csv_export_is_filtered_logged_and_safe_for_spreadsheets(
    um_client, unit_manager, social_worker
):
    AccessLogEntry.objects.create(
        username='=HYPERLINK("http://evil.example")',
        action=Action.LOGIN_FAILED,
        ip="10.0.0.1",
    )
    entry(social_worker, 5, timezone.now())
    response = um_client.get(reverse("bostadforst:access-log-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["När", "Användarnamn", "Roll"]
    usernames = [r[1] for r in rows[1:]]
    assert "sw" in usernames
    assert '\'=HYPERLINK("http://evil.example")' in usernames
    exported = AccessLogEntry.objects.exclude(action=Action.LOGIN).get(user=unit_manager)
    assert exported.action == Action.EXPORT


def test_social_workers_and_support_staff_cannot_read_the_log(sw_client, ss_client):
    for client in (sw_client, ss_client):
        assert client.get(reverse("bostadforst:access-log")).status_code == 403
        assert client.get(reverse("bostadforst:access-log-export")).status_code == 403


def test_the_review_page_names_record_types_in_words_not_code(um_client, social_worker):
    entry(social_worker, 41, timezone.now())
    html = um_client.get(reverse("bostadforst:access-log")).content.decode()
    assert re.search(r"<td[^>]*>Deltagare</td>", html)
    assert "participants.Participant" not in html
    assert "bostadforst.AccessLogEntry" not in html


def test_the_review_page_names_the_people_read_not_their_ids(um_client, social_worker):
    from tests.participants.factories import ParticipantFactory

    person = ParticipantFactory(first_name="Vera", last_name="Loggsdotter")
    entry(social_worker, person.pk, timezone.now())
    html = um_client.get(reverse("bostadforst:access-log")).content.decode()
    assert f'<a href="?person={person.pk}">Vera Loggsdotter</a>' in html
