"""Outcome follow-ups (issue 18 item 2): the follow-up points derived from
the first move-in, what is due, recording through the one write path (history,
access log, restriction), the form per role and bad input as Swedish 400s."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from support import outcomes
from support.models import OutcomeFollowUp
from tests.housing.factories import TenancyFactory

TODAY = timezone.localdate()

ANSWERS = {
    "occupation": "studies",
    "income_source": "student_aid",
    "addiction_care": "no",
    "psychiatric_care": "yes",
    "quality_of_life": 7,
    "own_words": "Det är bättre nu.",
    "contract_form": "social",
}


def post_data(**fields) -> dict:
    return {k: "" if v is None else str(v) for k, v in (ANSWERS | fields).items()}


# --- The points -------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert outcomes.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert outcomes.add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert outcomes.add_months(date(2024, 3, 15), -3) == date(2023, 12, 15)
    assert outcomes.add_months(date(2024, 3, 15), 24) == date(2026, 3, 15)


@pytest.mark.parametrize(
    ("day", "point"),
    [
        (date(2023, 9, 30), None),  # more than three months before the move-in
        (date(2023, 10, 1), 0),
        (date(2024, 1, 1), 0),
        (date(2024, 3, 31), 0),
        (date(2024, 4, 1), 6),  # three months after: the tie goes to the later point
        (date(2024, 7, 1), 6),
        (date(2024, 12, 31), 12),
        (date(2025, 1, 1), 12),
        (date(2025, 12, 1), 24),
    ],
)
def test_a_follow_up_belongs_to_the_point_nearest_its_date(day, point):
    assert outcomes.point_for(first_move_in=date(2024, 1, 1), day=day) == point


@given(
    move_in=st.dates(date(2015, 1, 1), date(2030, 12, 31)),
    point=st.integers(0, 20).map(lambda n: n * 6),
    offset=st.integers(-2, 2),
)
def test_the_day_of_a_point_and_two_months_either_side_belong_to_it(move_in, point, offset):
    day = outcomes.add_months(move_in, point + offset)
    if point == 0 and offset < 0:
        assert outcomes.point_for(first_move_in=move_in, day=day) == 0
    else:
        assert outcomes.point_for(first_move_in=move_in, day=day) == point


def test_the_next_point_is_move_in_then_six_months_after_the_latest():
    moved_in = date(2024, 1, 10)
    assert outcomes.next_point(first_move_in=None, points_done=[], today=TODAY) is None
    first = outcomes.next_point(first_move_in=moved_in, points_done=[], today=date(2024, 1, 9))
    assert (first.months, first.day, first.due) == (0, moved_in, False)
    assert outcomes.next_point(first_move_in=moved_in, points_done=[], today=moved_in).due
    after = outcomes.next_point(first_move_in=moved_in, points_done=[0, 6], today=date(2024, 12, 1))
    assert (after.months, after.day, after.due) == (12, date(2025, 1, 10), False)
    assert outcomes.next_point(
        first_move_in=moved_in, points_done=[6, 0], today=date(2025, 1, 10)
    ).due


# --- Recording -------------------------------------------------------------------


def test_recording_derives_the_point_keeps_history_and_logs(support_staff):
    tenancy = TenancyFactory(move_in=TODAY - timedelta(days=370))
    person = tenancy.participant
    follow_up = outcomes.follow_up_record(
        participant=person, acting_user=support_staff, date=TODAY, **ANSWERS
    )
    assert follow_up.point_months == 12
    history = list(OutcomeFollowUp.history.filter(id=follow_up.pk))
    assert [h.history_user for h in history] == [support_staff]
    assert AccessLogEntry.objects.filter(person_id=person.pk, user=support_staff).exists()


def test_a_person_who_has_not_moved_in_has_no_follow_up(support_staff):
    from tests.participants.factories import ParticipantFactory

    with pytest.raises(ValidationError) as caught:
        outcomes.follow_up_record(
            participant=ParticipantFactory(), acting_user=support_staff, date=TODAY, **ANSWERS
        )
    assert caught.value.code == "no_move_in"
    assert not OutcomeFollowUp.objects.exists()


def test_a_rating_outside_one_to_ten_is_refused(support_staff):
    person = TenancyFactory(move_in=TODAY - timedelta(days=10)).participant
    with pytest.raises(ValidationError):
        outcomes.follow_up_record(
            participant=person,
            acting_user=support_staff,
            date=TODAY,
            **(ANSWERS | {"quality_of_life": 11}),
        )


def test_only_the_team_records_follow_ups(social_worker, administrator):
    person = TenancyFactory(move_in=TODAY - timedelta(days=10)).participant
    for user in (social_worker, administrator):
        with pytest.raises(PermissionDenied):
            outcomes.follow_up_record(participant=person, acting_user=user, date=TODAY, **ANSWERS)


# --- The page -------------------------------------------------------------------


def _url(person) -> str:
    return reverse("support:outcome-follow-up-create", kwargs={"pk": person.pk})


# ``db`` named here: pytest-django orders a test by the fixtures it names,
# and one that takes its client through getfixturevalue alone would run after
# the transactional tests and the migration tests, on an emptied database.
@pytest.mark.parametrize("who", ["ss_client", "um_client"])
def test_the_team_records_a_follow_up_from_the_participant_page(who, request, db):
    client = request.getfixturevalue(who)
    person = TenancyFactory(move_in=TODAY - timedelta(days=200)).participant
    page = client.get(person.get_absolute_url())
    assert "Uppföljning av utfall" in page.content.decode()
    assert "Dags" in page.content.decode()
    form = client.get(_url(person))
    assert form.status_code == 200
    html = form.content.decode()
    assert "<fieldset" in html and "<legend" in html
    token = form.context["form"][TOKEN_FIELD].value()
    response = client.post(_url(person), post_data(date=TODAY.isoformat()) | {TOKEN_FIELD: token})
    assert response.status_code == 302
    follow_up = OutcomeFollowUp.objects.get(participant=person)
    assert follow_up.point_months == 6
    page = client.get(person.get_absolute_url()).content.decode()
    assert "Det är bättre nu." in page


def test_others_are_refused_the_form(sw_client, admin_user_client, ss_client):
    person = TenancyFactory(move_in=TODAY - timedelta(days=200)).participant
    for client in (sw_client, admin_user_client):
        assert client.get(_url(person)).status_code == 403
    assert (
        ss_client.get(
            reverse("support:outcome-follow-up-create", kwargs={"pk": 999999})
        ).status_code
        == 404
    )


def test_bad_input_is_a_swedish_400(ss_client):
    person = TenancyFactory(move_in=TODAY - timedelta(days=200)).participant
    token = ss_client.get(_url(person)).context["form"][TOKEN_FIELD].value()
    response = ss_client.post(
        _url(person),
        post_data(date="2001-01-01", occupation="astronaut") | {TOKEN_FIELD: token},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Välj ett giltigt alternativ" in html
    assert not OutcomeFollowUp.objects.exists()
    response = ss_client.post(_url(person), post_data(date="2001-01-01") | {TOKEN_FIELD: token})
    assert response.status_code == 400
    assert "tre månader före" in response.content.decode()
