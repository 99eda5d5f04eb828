"""Logging a visit does a fixed, small amount of work (issue 14, item 4).

The quick-log POST is the app's busiest write. Its SQL statements are pinned
here, counted without the transaction's own BEGIN/COMMIT/SAVEPOINT lines (on
PostgreSQL the access log's advisory lock is one more), and must not grow
with the data: the same with 10 and with 200 visits already stored. Each
statement that used to be there and is not is listed where it went, so that
the count is read together with what the POST still guarantees, which the
last assertions check: the visit with its staff and goals, one history row
that holds them, one chained access-log row, one claimed submit token.
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bostadforst.models import AccessLogEntry, SubmitToken
from bostadforst.roles import Role
from support.models import SupportVisit
from tests.factories import UserFactory

from .factories import ActionPlanFactory, GoalFactory, SupportVisitFactory
from .test_visits import _quick_post

URL = "support:visit-quick-log"

# Session, user and role; the submit token's replay check; the people hidden
# from the viewer; the form: the participant (set-up, then the field), the
# current plan (no longer with all its goals and actions), the chosen staff
# and goals; then, in one transaction, the token claimed (one INSERT … ON
# CONFLICT DO NOTHING), the service's rules (the staff named are team members,
# the goals are the participant's, processing not restricted), the visit, its
# staff and goals rows (one INSERT each), its one history row and that row's
# staff and goals snapshots (a read and an INSERT each), the access log's last
# hash and the new row, the token's result; after it, the session (the
# success message).
#
# Before (43 in this case): the check constraint asked of the database twice
# (now evaluated in Python, bostadforst.constraints), the participant and the
# author looked up again by model validation, a history row's snapshot read
# at the insert, when the many-to-many rows could not exist yet, and then
# replaced (nine), set() reading the empty many-to-many tables, the token's
# second replay check, and the plan's goals and actions read for the form.
STATEMENTS = 26
TRANSACTION = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")


def _statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(TRANSACTION)]


def _post(client, participant, staff, goal):
    data = _quick_post(
        participant, staff=[u.pk for u in staff], goals=[goal.pk], submit_token=str(uuid.uuid4())
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse(URL), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return _statements(queries), data["submit_token"]


@pytest.mark.django_db
def test_logging_a_visit_takes_the_same_few_statements_with_10_and_200_visits_stored(
    ss_client, support_staff, housed
):
    colleague = UserFactory(role=Role.SUPPORT_STAFF)
    plan = ActionPlanFactory(participant=housed)
    goal = GoalFactory(plan=plan)
    ss_client.get("/")  # the session's first request sets it up
    SupportVisitFactory.create_batch(10, participant=housed, author=support_staff)
    few, _token = _post(ss_client, housed, [support_staff, colleague], goal)
    SupportVisitFactory.create_batch(190, participant=housed, author=support_staff)
    many, token = _post(ss_client, housed, [support_staff, colleague], goal)

    lock = 1 if connection.vendor == "postgresql" else 0
    assert len(few) == len(many) == STATEMENTS + lock, "\n".join(many)

    # What the statements still give.
    visit = SupportVisit.objects.latest("pk")
    assert set(visit.staff.all()) == {support_staff, colleague}
    assert list(visit.goals.all()) == [goal]
    (history,) = visit.history.all()
    assert history.history_type == "+" and history.history_user == support_staff
    assert {row.user_id for row in history.staff.all()} == {support_staff.pk, colleague.pk}
    assert [row.goal_id for row in history.goals.all()] == [goal.pk]
    created = AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.CREATE, model="support.SupportVisit", object_id=str(visit.pk)
    )
    assert created.count() == 1 and created.get().person_id == housed.pk
    claim = SubmitToken.objects.get(token=token)
    assert claim.user == support_staff
    assert claim.result_url == reverse("support:visit-detail", kwargs={"pk": visit.pk})


@pytest.mark.django_db
def test_a_replayed_quick_log_stores_nothing_and_shows_the_first_visit(
    ss_client, support_staff, housed
):
    data = _quick_post(housed, staff=[support_staff.pk], submit_token=str(uuid.uuid4()))
    first = ss_client.post(reverse(URL), data)
    again = ss_client.post(reverse(URL), data)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert SupportVisit.objects.count() == 1
    assert SubmitToken.objects.count() == 1
