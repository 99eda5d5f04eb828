"""The fidelity results' rule (fidelity/scoring.py): each score normalised on
its item's scale, a domain the mean of its items, overall the mean of domains."""

from hypothesis import given
from hypothesis import strategies as st

from fidelity.scoring import ItemScore, domain_percentages, overall_percentage


@st.composite
def item_scores(draw):
    scale_min = draw(st.integers(0, 3))
    scale_max = draw(st.integers(scale_min + 1, 10))
    return ItemScore(
        domain=draw(st.integers(1, 5)),
        value=draw(st.integers(scale_min, scale_max)),
        scale_min=scale_min,
        scale_max=scale_max,
    )


def overall(scores):
    return overall_percentage(domain_percentages(scores))


@given(st.lists(item_scores(), min_size=1, max_size=30))
def test_the_overall_and_every_domain_score_lie_between_0_and_100(scores):
    per_domain = domain_percentages(scores)
    assert all(0 <= p <= 100 for p in per_domain.values())
    assert 0 <= overall(scores) <= 100


@given(st.lists(item_scores(), min_size=1, max_size=30), st.data())
def test_raising_one_score_never_lowers_its_domain_or_the_overall_score(scores, data):
    index = data.draw(st.integers(0, len(scores) - 1))
    old = scores[index]
    new_value = data.draw(st.integers(old.value, old.scale_max))
    raised = [*scores]
    raised[index] = ItemScore(old.domain, new_value, old.scale_min, old.scale_max)
    assert domain_percentages(raised)[old.domain] >= domain_percentages(scores)[old.domain] - 1e-9
    assert overall(raised) >= overall(scores) - 1e-9


@given(st.lists(item_scores(), min_size=1, max_size=30))
def test_all_highest_is_100_and_all_lowest_is_0(scores):
    top = [ItemScore(s.domain, s.scale_max, s.scale_min, s.scale_max) for s in scores]
    bottom = [ItemScore(s.domain, s.scale_min, s.scale_min, s.scale_max) for s in scores]
    assert overall(top) == 100
    assert overall(bottom) == 0


def test_each_domain_weighs_the_same_whatever_its_number_of_items():
    scores = [
        ItemScore("a", 4, 1, 4),  # domain a: 100 %
        ItemScore("b", 1, 1, 4),  # domain b: (0 + 0 + 100) / 3 = 33.3 %
        ItemScore("b", 1, 1, 4),
        ItemScore("b", 4, 1, 4),
    ]
    per_domain = domain_percentages(scores)
    assert per_domain == {"a": 100, "b": 100 / 3}
    assert overall_percentage(per_domain) == (100 + 100 / 3) / 2


def test_no_scores_give_no_overall_score():
    assert overall([]) is None
