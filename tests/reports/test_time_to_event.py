"""Waiting time from approval to move-in and time to a first-hand contract:
both Kaplan–Meier curves against a brute-force oracle written from the
definitions in ``reports.time_to_event``'s docstring, the censoring cases one
by one, and the refactored tenancy survival still equal to the textbook
product-limit estimate."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from math import floor

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from housing.models import Tenancy
from participants.models import ReferralStatus, TargetGroup
from reports import retention, time_to_event
from reports.kaplan_meier import kaplan_meier, median_month
from reports.retention import RetentionData
from tests.factories import UserFactory
from tests.housing.factories import ApartmentFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory

GROUPS = ["elderly", "young_adults"]
D = date(2024, 6, 30)


# --- The oracle -------------------------------------------------------------------


def month_of(days: int) -> int:
    """Whole months of 365.2425 / 12 days, exactly."""
    return floor(Fraction(days) * 12 / Fraction("365.2425"))


def product_limit(spells):
    """The textbook estimate: at each month j, n_j followed at its start (spell
    month ≥ j), d_j events in it; S(m) = Π_{j ≤ m} (1 − d_j / n_j)."""
    if not spells:
        return []
    months = [(month_of(days), event) for days, event in spells]
    out = []
    share = Fraction(1)
    for j in range(max(m for m, _ in months) + 1):
        n = sum(1 for m, _ in months if m >= j)
        d = sum(1 for m, e in months if m == j and e)
        c = sum(1 for m, e in months if m == j and not e)
        if n:
            share *= 1 - Fraction(d, n)
        out.append((j, n, d, c, share))
    return out


def waiting_oracle(people, as_of, group=None):
    spells = []
    for p in people:
        approvals = [day for day in p["approvals"] if day <= as_of]
        if not approvals or (group and group not in p["groups"]):
            continue
        approved = min(approvals)
        if any(t["move_in"] < approved for t in p["tenancies"]):
            continue
        moves = [t["move_in"] for t in p["tenancies"] if approved <= t["move_in"] <= as_of]
        if moves:
            spells.append(((min(moves) - approved).days, True))
        elif p["closed_on"] is not None and p["closed_on"] <= as_of:
            spells.append(((max(p["closed_on"], approved) - approved).days, False))
        else:
            spells.append(((as_of - approved).days, False))
    return product_limit(spells)


def takeover_oracle(people, as_of):
    spells = []
    for p in people:
        social = [t for t in p["tenancies"] if t["contract_type"] == "social"]
        social = [t for t in social if t["move_in"] <= as_of]
        if not social:
            continue
        start = min(t["move_in"] for t in social)
        takeovers = [t["takeover"] for t in social if t["takeover"] and t["takeover"] <= as_of]
        if takeovers:
            spells.append(((min(takeovers) - start).days, True))
            continue
        latest = max(social, key=lambda t: (t["move_in"], t["pk"]))
        out = latest["move_out"]
        spells.append((((out if out and out <= as_of else as_of) - start).days, False))
    return product_limit(spells)


def comparable(points):
    return [(p["month"], p["at_risk"], p["events"], p["censored"]) for p in points]


def assert_matches(points, expected):
    assert comparable(points) == [(j, n, d, c) for j, n, d, c, _s in expected]
    for point, (*_rest, share) in zip(points, expected, strict=True):
        assert abs(point["survival"] - float(share)) <= 0.00005 + 1e-12


# --- Generated people -------------------------------------------------------------


@st.composite
def person(draw):
    """Approvals, a chain of non-overlapping tenancies, a closing day, groups."""
    start = draw(st.dates(min_value=date(2018, 1, 1), max_value=date(2024, 12, 31)))
    approvals = draw(
        st.lists(
            st.dates(min_value=date(2017, 1, 1), max_value=date(2025, 6, 30)),
            max_size=2,
        )
    )
    tenancies = []
    if draw(st.booleans()):
        for _i in range(draw(st.integers(1, 3))):
            contract = draw(st.sampled_from(["first_hand", "social"]))
            length = draw(st.one_of(st.none(), st.integers(1, 1500)))
            move_out = start + timedelta(days=length) if length else None
            takeover = None
            if contract == "social" and draw(st.booleans()):
                takeover = start + timedelta(days=draw(st.integers(0, (length or 1500) - 1)))
            tenancies.append(
                {
                    "move_in": start,
                    "move_out": move_out,
                    "exit_reason": draw(st.sampled_from(["evicted", "other_hf_apartment"]))
                    if move_out
                    else "",
                    "contract_type": contract,
                    "takeover": takeover,
                }
            )
            if move_out is None:
                break
            start = move_out + timedelta(days=draw(st.integers(0, 300)))
    closed_on = draw(
        st.one_of(st.none(), st.dates(min_value=date(2017, 1, 1), max_value=date(2025, 12, 31)))
    )
    groups = sorted(draw(st.sets(st.sampled_from(GROUPS), max_size=2)))
    return {
        "approvals": approvals,
        "tenancies": tenancies,
        "closed_on": closed_on,
        "groups": groups,
    }


def cases(max_people):
    return st.tuples(
        st.lists(person(), max_size=max_people),
        st.dates(min_value=date(2018, 1, 1), max_value=date(2025, 12, 31)),
    )


def with_pks(people):
    pk = 1
    for p in people:
        for t in p["tenancies"]:
            t["pk"] = pk
            pk += 1
    return people


def as_data(people):
    """The rows ``retention.load`` and ``time_to_event.load_approvals`` give."""
    rows, groups, approvals = {}, {}, {}
    for pid, p in enumerate(people):
        if p["tenancies"]:
            rows[pid] = [
                (
                    t["move_in"],
                    t["move_out"],
                    t["exit_reason"],
                    t["contract_type"],
                    t["takeover"],
                    1,
                    t["pk"],
                )
                for t in p["tenancies"]
            ]
        if p["groups"]:
            groups[pid] = tuple(p["groups"])
        if p["approvals"]:
            approvals[pid] = (list(p["approvals"]), p["closed_on"])
    return RetentionData(people=rows, landlords={1: "A"}, groups=groups), approvals


@settings(max_examples=300, deadline=None)
@given(cases(max_people=30), st.sampled_from([None, *GROUPS]))
def test_waiting_time_matches_the_brute_force_oracle(case, group):
    people, as_of = case
    people = with_pks(people)
    data, approvals = as_data(people)
    filters = {"target_group": group} if group else None
    points = time_to_event.waiting_time(data, approvals, as_of=as_of, filters=filters)
    assert_matches(points, waiting_oracle(people, as_of, group))


@settings(max_examples=300, deadline=None)
@given(cases(max_people=30))
def test_time_to_takeover_matches_the_brute_force_oracle(case):
    people, as_of = case
    people = with_pks(people)
    data, _approvals = as_data(people)
    points = time_to_event.takeover_time(data, as_of=as_of)
    assert_matches(points, takeover_oracle(people, as_of))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.booleans()), max_size=40))
def test_the_shared_estimator_is_the_product_limit_estimate(spells):
    points = kaplan_meier(spells)
    assert_matches(points, product_limit(spells))
    shares = [p["survival"] for p in points]
    assert all(a >= b for a, b in zip(shares, shares[1:], strict=False))


@settings(max_examples=100, deadline=None)
@given(cases(max_people=20))
def test_tenancy_survival_is_the_product_limit_estimate_of_its_spells(case):
    """The refactoring kept the survival curve: its spells, by the definition
    in ``retention.survival``, give the textbook estimate."""
    people, as_of = case
    people = with_pks(people)
    data, _approvals = as_data(people)
    spells = []
    for r in retention.readings(data, as_of=as_of):
        status = r[retention.R_STATUS]
        end = as_of if status == retention.H else r[retention.R_LATEST][1]
        spells.append(((end - r[retention.R_FIRST_DAY]).days, status == retention.L))
    assert_matches(retention.survival(data, as_of=as_of), product_limit(spells))


# --- Censoring, case by case --------------------------------------------------------


def one(approvals=(), tenancies=(), closed_on=None):
    rows = [(*t, 1, i) for i, t in enumerate(tenancies, start=1)]
    data = RetentionData(people={1: rows} if rows else {}, landlords={1: "A"})
    return data, ({1: (list(approvals), closed_on)} if approvals else {})


def spell_waiting(**kwargs):
    data, approvals = one(**kwargs)
    return time_to_event.waiting_spells(data, approvals, as_of=D)


def spell_takeover(**kwargs):
    data, _approvals = one(**kwargs)
    return time_to_event.takeover_spells(data, as_of=D)


def tenancy(move_in, move_out=None, reason="", contract="first_hand", takeover=None):
    return (move_in, move_out, reason, contract, takeover)


def test_a_move_in_after_approval_is_the_event():
    spells = spell_waiting(approvals=[date(2024, 1, 1)], tenancies=[tenancy(date(2024, 3, 1))])
    assert spells == [(60, True)]


def test_someone_still_waiting_is_censored_at_the_reference_date():
    assert spell_waiting(approvals=[date(2024, 6, 1)]) == [(29, False)]


def test_someone_who_left_without_moving_in_is_censored_at_the_closing_day():
    spells = spell_waiting(approvals=[date(2024, 1, 1)], closed_on=date(2024, 2, 1))
    assert spells == [(31, False)]


def test_a_closing_day_after_the_reference_date_leaves_the_person_waiting():
    spells = spell_waiting(approvals=[date(2024, 1, 1)], closed_on=date(2024, 8, 1))
    assert spells == [((D - date(2024, 1, 1)).days, False)]


def test_the_first_approval_counts_and_later_ones_and_future_ones_do_not():
    spells = spell_waiting(
        approvals=[date(2024, 2, 1), date(2024, 1, 1), date(2024, 12, 1)],
        tenancies=[tenancy(date(2024, 1, 11))],
    )
    assert spells == [(10, True)]
    assert spell_waiting(approvals=[date(2024, 7, 1)]) == []


def test_a_move_in_after_the_reference_date_is_not_yet_the_event():
    spells = spell_waiting(approvals=[date(2024, 6, 1)], tenancies=[tenancy(date(2024, 7, 1))])
    assert spells == [(29, False)]


def test_someone_housed_before_their_approval_is_left_out():
    spells = spell_waiting(approvals=[date(2024, 2, 1)], tenancies=[tenancy(date(2023, 1, 1))])
    assert spells == []


def test_a_takeover_is_the_event_from_the_social_move_in():
    spells = spell_takeover(
        tenancies=[tenancy(date(2023, 1, 1), contract="social", takeover=date(2023, 3, 2))]
    )
    assert spells == [(60, True)]


def test_a_social_contract_without_takeover_is_censored_at_the_reference_date():
    spells = spell_takeover(tenancies=[tenancy(date(2024, 6, 1), contract="social")])
    assert spells == [(29, False)]


def test_a_move_out_without_takeover_censors_at_the_move_out():
    spells = spell_takeover(
        tenancies=[
            tenancy(date(2023, 1, 1), date(2023, 2, 1), "moved_on", "social"),
            tenancy(date(2023, 3, 1)),  # first-hand elsewhere: not a takeover
        ]
    )
    assert spells == [(31, False)]


def test_a_takeover_after_the_reference_date_does_not_count_yet():
    spells = spell_takeover(
        tenancies=[tenancy(date(2024, 6, 1), contract="social", takeover=date(2024, 7, 1))]
    )
    assert spells == [(29, False)]


def test_only_first_hand_tenancies_are_not_followed():
    assert spell_takeover(tenancies=[tenancy(date(2023, 1, 1))]) == []


def test_the_median_is_the_first_month_at_or_below_a_half():
    points = kaplan_meier([(10, True), (40, True), (70, False), (100, True)])
    assert median_month(points) == 1
    assert median_month(kaplan_meier([(10, True), (40, False), (70, False)])) is None


# --- Through the database -------------------------------------------------------


@pytest.mark.django_db
def test_an_approval_counts_on_its_day_in_stockholm():
    """Approved 00:30 in Stockholm is the day before in UTC: the Stockholm day counts."""
    person = ParticipantFactory()
    ReferralFactory(
        participant=person,
        status=ReferralStatus.APPROVED,
        decided_by=UserFactory(),
        decided_at=datetime(2024, 3, 1, 23, 30, tzinfo=UTC),  # 2024-03-02 00:30 CET
    )
    assert time_to_event.load_approvals() == {person.pk: ([date(2024, 3, 2)], None)}


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases(max_people=5))
def test_curves_read_from_the_database_match_the_oracle(case):
    """The same comparison through real rows, so both loaders are covered."""
    people, as_of = case
    people = with_pks(people)
    with transaction.atomic():
        decider = UserFactory()
        target_groups = {g.code: g for g in TargetGroup.objects.all()}
        for p in people:
            participant = ParticipantFactory(closed_on=p["closed_on"])
            participant.target_groups.set([target_groups[c] for c in p["groups"]])
            for day in p["approvals"]:
                ReferralFactory(
                    participant=participant,
                    status=ReferralStatus.APPROVED,
                    decided_by=decider,
                    decided_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                )
            for t in p["tenancies"]:
                Tenancy(
                    participant=participant,
                    apartment=ApartmentFactory(),
                    **{k: v for k, v in t.items() if k != "pk"},
                ).save()
        data = retention.load(until=as_of)
        waiting = time_to_event.waiting_time(data, time_to_event.load_approvals(), as_of=as_of)
        takeover = time_to_event.takeover_time(data, as_of=as_of)
        transaction.set_rollback(True)
    assert_matches(waiting, waiting_oracle(people, as_of))
    # The database's ids order same-day tenancies; the oracle's pks follow
    # creation order too.
    assert_matches(takeover, takeover_oracle(people, as_of))
