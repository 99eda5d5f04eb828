"""The eligibility rules: residence from the registration date, homelessness
from the housing situation (Socialstyrelsen + Stockholm's definition)."""

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from participants.eligibility import all_met, homeless_answer, residence_answer
from participants.models import Answer, Criterion, HousingSituation, TemporaryArrangement

ON = date(2026, 11, 23)


def test_registered_exactly_two_years_ago_counts():
    assert residence_answer(date(2024, 11, 23), on=ON, years=2).answer == Answer.MET


def test_registered_one_day_short_of_two_years_does_not_count():
    assert residence_answer(date(2024, 11, 24), on=ON, years=2).answer == Answer.NOT_MET


def test_a_leap_day_registration_is_two_years_old_on_28_february():
    assert residence_answer(date(2024, 2, 29), on=date(2026, 2, 28), years=2).answer == Answer.MET
    assert (
        residence_answer(date(2024, 2, 29), on=date(2026, 2, 27), years=2).answer == Answer.NOT_MET
    )


def test_the_number_of_years_is_a_parameter():
    assert residence_answer(date(2023, 11, 23), on=ON, years=3).answer == Answer.MET
    assert residence_answer(date(2023, 11, 24), on=ON, years=3).answer == Answer.NOT_MET


def test_a_missing_or_future_registration_date_is_unknown():
    assert residence_answer(None, on=ON, years=2).answer == Answer.UNKNOWN
    assert residence_answer(ON + timedelta(days=1), on=ON, years=2).answer == Answer.UNKNOWN


@given(st.dates(min_value=date(1990, 1, 1), max_value=ON), st.integers(1, 5))
def test_residence_is_met_exactly_when_the_anniversary_has_passed(registered, years):
    expected = registered + relativedelta(years=years) <= ON
    assert (residence_answer(registered, on=ON, years=years).answer == Answer.MET) is expected


@pytest.mark.parametrize(
    ("situation", "arrangement", "since", "expected"),
    [
        (HousingSituation.ACUTE, "", None, Answer.MET),
        (HousingSituation.INSTITUTION, "", None, Answer.MET),
        (HousingSituation.SOCIAL_SOLUTION, "", None, Answer.MET),
        (HousingSituation.NOT_HOMELESS, "", None, Answer.NOT_MET),
        (HousingSituation.SHORT_TERM_OWN, TemporaryArrangement.SECOND_HAND, None, Answer.NOT_MET),
        (HousingSituation.SHORT_TERM_OWN, TemporaryArrangement.RELATIVES, None, Answer.NOT_MET),
        (HousingSituation.SHORT_TERM_OWN, TemporaryArrangement.FRIENDS, None, Answer.UNKNOWN),
        (HousingSituation.SHORT_TERM_OWN, TemporaryArrangement.OTHER, None, Answer.UNKNOWN),
        # Stockholm: friends count for at most three months, boundary included.
        (
            HousingSituation.SHORT_TERM_OWN,
            TemporaryArrangement.FRIENDS,
            date(2026, 8, 23),
            Answer.MET,
        ),
        (
            HousingSituation.SHORT_TERM_OWN,
            TemporaryArrangement.FRIENDS,
            date(2026, 8, 22),
            Answer.NOT_MET,
        ),
        ("", "", None, Answer.UNKNOWN),
    ],
)
def test_homelessness_is_suggested_from_the_housing_situation(
    situation, arrangement, since, expected
):
    assert homeless_answer(situation, arrangement, since, on=ON).answer == expected


def test_approval_needs_all_six_met():
    answers = {c: Answer.MET for c in Criterion.values}
    assert all_met(answers)
    assert not all_met({**answers, Criterion.MOTIVATED: Answer.UNKNOWN})
    assert not all_met({k: v for k, v in answers.items() if k != Criterion.CONTACT})


@pytest.mark.parametrize(
    ("years", "text"), [(1, "minst 1 år"), (2, "minst 2 år"), (3, "minst 3 år")]
)
def test_the_residence_criterion_names_the_required_years(years, text):
    from django.utils import translation

    from participants.eligibility import criterion_label
    from participants.models import Criterion

    with translation.override("sv"):
        assert text in criterion_label(Criterion.RESIDENCE, years=years)
        assert criterion_label(Criterion.HOMELESS, years=years) == "Hemlös"
