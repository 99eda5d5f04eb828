"""Outcomes from move-in to 12 and 24 months (reports.outcomes): the
follow-up matched to each point, the change computation against an oracle
written from the docstring, the figures on a small world through the database,
and a fixed number of queries."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import outcomes
from reports.outcomes import Answer
from support.outcomes import add_months
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory

AS_OF = date(2026, 6, 30)


def answer(
    pk, day, occupation="none", addiction="unknown", psychiatric="no", qol=None, contract=""
):
    return Answer(pk, day, occupation, addiction, psychiatric, qol, contract)


def test_the_nearest_follow_up_within_three_months_counts():
    point = date(2025, 1, 15)
    early, late, far = (
        answer(1, date(2024, 12, 1)),
        answer(2, date(2025, 2, 1)),
        answer(3, date(2025, 4, 16)),
    )
    assert outcomes.nearest([early, late, far], point_day=point, until=AS_OF) == late
    assert outcomes.nearest([far], point_day=point, until=AS_OF) is None
    # The window's edges are inside; a tie goes to the earlier date.
    edge = answer(4, date(2025, 4, 15))
    assert outcomes.nearest([edge], point_day=point, until=AS_OF) == edge
    a, b = answer(5, date(2025, 1, 10)), answer(6, date(2025, 1, 20))
    assert outcomes.nearest([b, a], point_day=point, until=AS_OF) == a
    # Nothing after the reference date.
    assert outcomes.nearest([late], point_day=point, until=date(2025, 1, 31)) is None


def test_the_change_is_the_value_at_the_point_minus_the_value_at_move_in():
    move_ins = {1: date(2024, 1, 1), 2: date(2024, 1, 1)}
    answers = {
        1: [
            answer(1, date(2024, 1, 5), "none", "yes", "yes", 3, "social"),
            answer(2, date(2025, 1, 3), "studies", "no", "yes", 7, "first_hand"),
        ],
        2: [
            answer(3, date(2024, 1, 2), "none", "yes", "unknown", 5, "social"),
            answer(4, date(2025, 2, 1), "employment", "yes", "no", None, "first_hand"),
        ],
    }
    figures = outcomes.compute(move_ins, answers, as_of=AS_OF)
    assert figures["occupation"]["values"][0] == {"value": 0.0, "n": 2}
    assert figures["occupation"]["values"][12] == {"value": 1.0, "n": 2}
    assert figures["occupation"]["change"] == {12: 1.0, 24: None}
    assert figures["addiction_care"]["change"][12] == pytest.approx(-0.5)
    # Unknown answers are left out of the share.
    assert figures["psychiatric_care"]["values"][0] == {"value": 1.0, "n": 1}
    assert figures["quality_of_life"]["values"][0] == {"value": 4.0, "n": 2}
    assert figures["quality_of_life"]["change"][12] == pytest.approx(3.0)
    assert figures["first_hand"]["change"][12] == 1.0
    table = outcomes.outcomes_table(figures)
    assert table.rows[0][1:] == ["0 % (n = 2)", "100 % (n = 2)", "–", "+100", "–"]


OCCUPATIONS = ["none", "day_activity", "studies", "work_training", "employment"]


@st.composite
def worlds(draw):
    move_ins, answers, pk = {}, {}, 0
    for pid in range(draw(st.integers(0, 6))):
        move_ins[pid] = draw(st.dates(date(2022, 1, 1), date(2026, 6, 30)))
        rows = []
        for _ in range(draw(st.integers(0, 5))):
            pk += 1
            day = move_ins[pid] + timedelta(days=draw(st.integers(-120, 900)))
            rows.append(
                answer(
                    pk,
                    day,
                    draw(st.sampled_from(OCCUPATIONS)),
                    draw(st.sampled_from(["yes", "no", "unknown"])),
                    draw(st.sampled_from(["yes", "no", "unknown"])),
                    draw(st.none() | st.integers(1, 10)),
                    draw(st.sampled_from(["", "social", "first_hand"])),
                )
            )
        answers[pid] = rows
    return move_ins, answers


def _oracle_occupation(move_ins, answers, point):
    """Straight from the docstring: each person's follow-ups within the
    window, on or before D, by distance then date then pk."""
    flags = []
    for pid, moved_in in move_ins.items():
        day = add_months(moved_in, point)
        if day > AS_OF:
            continue
        window = [
            a
            for a in answers.get(pid, [])
            if add_months(day, -3) <= a.date <= add_months(day, 3) and a.date <= AS_OF
        ]
        if window:
            best = sorted(window, key=lambda a: (abs((a.date - day).days), a.date, a.pk))[0]
            flags.append(best.occupation != "none")
    return (sum(flags) / len(flags)) if flags else None, len(flags)


@settings(max_examples=150)
@given(worlds())
def test_occupation_shares_and_change_agree_with_an_oracle(world):
    move_ins, answers = world
    figures = outcomes.compute(move_ins, answers, as_of=AS_OF)
    expected = {p: _oracle_occupation(move_ins, answers, p) for p in (0, 12, 24)}
    for p, (value, n) in expected.items():
        assert figures["occupation"]["values"][p] == {"value": value, "n": n}
    for p in (12, 24):
        start, later = expected[0][0], expected[p][0]
        want = None if start is None or later is None else later - start
        assert figures["occupation"]["change"][p] == want


def _small_world(people: int, recorder) -> None:
    from support import outcomes as follow_ups

    for i in range(people):
        moved_in = date(2024, 1, 1) + timedelta(days=i)
        person = ParticipantFactory()
        TenancyFactory(participant=person, move_in=moved_in)
        for months, occupation in ((0, "none"), (12, "studies" if i % 2 else "none")):
            follow_ups.follow_up_record(
                participant=person,
                acting_user=recorder,
                date=add_months(moved_in, months),
                occupation=occupation,
                income_source="unknown",
                addiction_care="no",
                psychiatric_care="no",
                quality_of_life=5 + (months // 12),
                own_words="",
                contract_form="social",
            )


@pytest.mark.django_db
@pytest.mark.parametrize("people", [2, 8])
def test_the_figures_through_the_database_in_two_queries(
    people, support_staff, django_assert_num_queries
):
    _small_world(people, support_staff)
    with django_assert_num_queries(2):
        figures = outcomes.outcome_figures(as_of=AS_OF)
    assert figures["occupation"]["values"][0] == {"value": 0.0, "n": people}
    assert figures["occupation"]["values"][12] == {"value": (people // 2) / people, "n": people}
    assert figures["quality_of_life"]["change"][12] == pytest.approx(1.0)
    assert figures["occupation"]["values"][24] == {"value": None, "n": 0}


@pytest.mark.django_db
def test_the_dashboard_shows_the_outcomes_and_downloads_them(
    support_staff, um_client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    _small_world(2, support_staff)
    url = reverse("reports:dashboard")
    um_client.get(url, {"as_of": AS_OF.isoformat()})  # warm the session
    with CaptureQueriesContext(connection) as small:
        response = um_client.get(url, {"as_of": AS_OF.isoformat()})
    html = response.content.decode()
    assert "Utfall från inflyttning till 12 och 24 månader" in html
    assert "Någon sysselsättning" in html and "50 % (n = 2)" in html
    _small_world(6, support_staff)
    with django_assert_num_queries(len(small)):
        assert um_client.get(url, {"as_of": AS_OF.isoformat()}).status_code == 200
    csv = um_client.get(
        reverse("reports:dashboard-csv", kwargs={"table": "outcomes"}), {"as_of": AS_OF.isoformat()}
    )
    assert csv.status_code == 200
    assert "Någon sysselsättning" in csv.content.decode("utf-8-sig")
    xlsx = um_client.get(
        reverse("reports:dashboard-xlsx", kwargs={"table": "outcomes"}),
        {"as_of": AS_OF.isoformat()},
    )
    assert xlsx.status_code == 200
