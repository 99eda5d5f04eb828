"""Property-based checks of the retention computation (pure: no database)."""

from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from reports import retention
from reports.retention import Person, RetentionData

REASONS = [
    "moved_on",
    "other_hf_apartment",
    "evicted",
    "terminated",
    "homelessness",
    "institution",
    "deceased",
    "lost_contact",
    "other",
]


@st.composite
def person(draw):
    """A chain of non-overlapping tenancies, as the housing rules allow."""
    start = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2024, 12, 31)))
    tenancies = []
    pk = draw(st.integers(1, 10_000_000))
    for i in range(draw(st.integers(1, 3))):
        contract = draw(st.sampled_from(["first_hand", "social"]))
        length = draw(st.one_of(st.none(), st.integers(1, 2000)))
        move_out = start + timedelta(days=length) if length else None
        takeover = None
        if contract == "social" and draw(st.booleans()):
            takeover = start + timedelta(days=draw(st.integers(0, (length or 2000) - 1)))
        reason = draw(st.sampled_from(REASONS)) if move_out else ""
        tenancies.append(
            (start, move_out, reason, contract, takeover, draw(st.integers(1, 3)), pk + i)
        )
        if move_out is None:
            break
        start = move_out + timedelta(days=draw(st.integers(0, 400)))
    groups = tuple(sorted(draw(st.sets(st.sampled_from(["elderly", "young_adults"]), max_size=2))))
    return Person(tenancies=tenancies, target_groups=groups)


def data_from(people):
    return RetentionData(
        people={i: p for i, p in enumerate(people)}, landlords={1: "A", 2: "B", 3: "C"}
    )


def oracle(person, as_of, months):
    """The definition, written out plainly and independently."""
    first = min(t[0] for t in person.tenancies)
    reading = first + relativedelta(months=months) if months else as_of
    if first > as_of or reading > as_of:
        return None
    started = [t for t in person.tenancies if t[0] <= reading]
    latest = max(started, key=lambda t: (t[0], t[6]))
    if latest[1] is None or latest[1] > reading:
        return "housed"
    return {"moved_on": "moved_on", "other_hf_apartment": "housed", "deceased": "deceased"}.get(
        latest[2], "lost"
    )


settings_dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31))


@given(st.lists(person(), max_size=25), settings_dates, st.sampled_from([0, 1, 6, 12, 24]))
def test_counts_add_up_to_the_cohort_and_match_the_definition(people, as_of, months):
    data = data_from(people)
    f = retention.compute(as_of=as_of, months=months, data=data, target=0.8)
    assert f["housed"] + f["moved_on"] + f["lost"] + f["deceased"] == f["cohort"]
    expected = [oracle(p, as_of, months) for p in people]
    expected = [s for s in expected if s is not None]
    assert f["cohort"] == len(expected)
    for status in ("housed", "moved_on", "lost", "deceased"):
        assert f[status] == expected.count(status)
    for name in ("landlord", "contract_type", "move_in_year"):
        assert sum(c["cohort"] for c in f["breakdown"][name].values()) == f["cohort"]
    assert sum(c["cohort"] for c in f["breakdown"]["target_group"].values()) >= f["cohort"]
    if f["retention_rate"] is not None:
        assert 0 <= f["retention_rate_incl_deceased"] <= f["retention_rate"] <= 1
        retained = f["housed"] + f["moved_on"]
        exact = Fraction(retained, f["cohort"] - f["deceased"])
        assert f["meets_target"] == (exact >= Fraction("0.8"))
    else:
        assert f["cohort"] == f["deceased"]


@given(st.lists(person(), max_size=25), settings_dates)
def test_survival_curve_never_rises_and_accounts_for_everyone(people, as_of):
    data = data_from(people)
    points = retention.survival(data, as_of=as_of)
    cohort = retention.compute(as_of=as_of, data=data)["cohort"]
    if not points:
        assert cohort == 0
        return
    assert points[0]["at_risk"] == cohort
    assert sum(p["events"] + p["censored"] for p in points) == cohort
    shares = [p["survival"] for p in points]
    assert all(a >= b for a, b in zip(shares, shares[1:], strict=False))
    assert all(0 <= s <= 1 for s in shares)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 240))
def test_add_months_clamps_like_relativedelta(day, months):
    assert retention.add_months(day, months) == day + relativedelta(months=months)
