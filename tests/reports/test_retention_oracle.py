"""The whole retention result against a brute-force oracle of DESIGN.md.

The oracle below is written from the definition's text alone, line by line,
without any code of ``reports.retention``: the first move-in, the cohort with
and without a horizon (``relativedelta`` month-end clamping), the latest
tenancy started on or before each person's reading day, the active rule, the
exit-reason mapping, both rates, the target check (≥, exact), the takeover
share and the six breakdowns (landlord, contract type, move-in year and
provider of the FIRST tenancy; target group; referring unit of the first
approved referral, "none" without one). Hypothesis compares every figure, on pure data
and through the database (``load()``), with month-end days drawn often.
"""

import calendar
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from math import floor

import pytest
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from housing.models import Tenancy
from participants.models import ReferralStatus, TargetGroup
from reports import retention
from reports.retention import RetentionData
from tests.factories import UserFactory
from tests.housing.factories import ApartmentFactory, LandlordFactory, ProviderFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory, ReferringUnitFactory

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
LANDLORDS = {1: "Alfa Bostäder", 2: "Beta Fastigheter", 3: "Gamma Hem"}
GROUPS = ["elderly", "young_adults", "families"]
PROVIDERS = {1: "Kommunens team", 2: "Stadsmissionen (IOP)"}
UNITS = ["Stadsdelsförvaltning Norr", "Stadsdelsförvaltning Söder"]
TARGET = 0.8


# --- The oracle -------------------------------------------------------------------


def rounded(value):
    """4 decimals, half up, from the exact fraction; None stays None."""
    if value is None:
        return None
    return floor(value * 10_000 + Fraction(1, 2)) / 10_000


def reading_of(person, as_of, months):
    """(status, had social contract, took over) on the person's reading day, or None."""
    tenancies = person["tenancies"]
    first_move_in = min(t["move_in"] for t in tenancies)  # 1.
    if months == 0:  # 2.
        if not first_move_in <= as_of:
            return None
        reading_day = as_of
    else:
        reading_day = first_move_in + relativedelta(months=months)
        if not reading_day <= as_of:
            return None
    started = [t for t in tenancies if t["move_in"] <= reading_day]  # 3.
    latest = max(started, key=lambda t: t["move_in"])
    active = latest["move_out"] is None or latest["move_out"] > reading_day
    if active:
        status = "housed"
    elif latest["exit_reason"] == "moved_on":
        status = "moved_on"
    elif latest["exit_reason"] == "other_hf_apartment":
        status = "housed"
    elif latest["exit_reason"] == "deceased":
        status = "deceased"
    else:
        status = "lost"
    social = [t for t in started if t["contract_type"] == "social"]  # 5.
    took_over = any(t["takeover"] is not None and t["takeover"] <= reading_day for t in social)
    return status, bool(social), took_over


def figures_of(readings):
    """Counts, rates, target check and takeover share of a list of readings."""
    counts = {s: sum(1 for r in readings if r[0] == s) for s in retention.STATUSES}
    cohort = len(readings)
    retained = counts["housed"] + counts["moved_on"]
    without_deceased = cohort - counts["deceased"]
    rate = Fraction(retained, without_deceased) if without_deceased else None  # 4.
    social = sum(1 for r in readings if r[1])
    took_over = sum(1 for r in readings if r[1] and r[2])
    return {
        "cohort": cohort,
        **counts,
        "retention_rate": rounded(rate),
        "retention_rate_incl_deceased": rounded(Fraction(retained, cohort) if cohort else None),
        "meets_target": None if rate is None else rate >= Fraction(str(TARGET)),
        "takeover_share": rounded(Fraction(took_over, social) if social else None),
        "social_contracts": social,
        "took_over": took_over,
    }


def oracle(people, as_of, months):
    members = []
    for person in people:
        reading = reading_of(person, as_of, months)
        if reading is not None:
            members.append((person, reading))
    result = figures_of([r for _, r in members])
    groups = {name: defaultdict(list) for name in retention_breakdowns()}
    for person, reading in members:  # 6.
        first = min(person["tenancies"], key=lambda t: t["move_in"])
        groups["landlord"][LANDLORDS[first["landlord"]]].append(reading)
        groups["contract_type"][first["contract_type"]].append(reading)
        groups["move_in_year"][str(first["move_in"].year)].append(reading)
        for code in person["groups"] or ["none"]:
            groups["target_group"][code].append(reading)
        groups["referring_unit"][person.get("unit") or "none"].append(reading)
        provider = first.get("provider")
        groups["provider"][PROVIDERS[provider] if provider else "none"].append(reading)
    result["breakdown"] = {
        name: {key: figures_of(rs) for key, rs in table.items()} for name, table in groups.items()
    }
    return result


def retention_breakdowns():
    return (
        "landlord",
        "contract_type",
        "move_in_year",
        "target_group",
        "referring_unit",
        "provider",
    )


# --- Random data ----------------------------------------------------------------------


@st.composite
def days(draw, low=date(2015, 1, 1), high=date(2025, 12, 31)):
    """Any day, but often the 28th–31st: month-end clamping is where horizons break."""
    if draw(st.booleans()):
        return draw(st.dates(min_value=low, max_value=high))
    year = draw(st.integers(low.year, high.year))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, draw(st.integers(min(28, last), last)))


@st.composite
def person(draw):
    """Successive tenancies as the housing rules allow: never overlapping, a
    move-out day free for the next move-in, takeover within a social contract."""
    start = draw(days(high=date(2024, 12, 31)))
    tenancies = []
    for _ in range(draw(st.integers(1, 3))):
        contract = draw(st.sampled_from(["first_hand", "social"]))
        # Lengths in whole months too, so that move-outs fall on reading days.
        move_out = draw(
            st.one_of(
                st.none(),
                st.integers(1, 1500).map(lambda n, s=start: s + timedelta(days=n)),
                st.integers(1, 40).map(lambda n, s=start: s + relativedelta(months=n)),
            )
        )
        length = (move_out - start).days if move_out else None
        takeover = None
        if contract == "social" and draw(st.booleans()):
            takeover = start + timedelta(days=draw(st.integers(0, (length or 1500) - 1)))
        tenancies.append(
            {
                "move_in": start,
                "move_out": move_out,
                "exit_reason": draw(st.sampled_from(REASONS)) if move_out else "",
                "contract_type": contract,
                "takeover": takeover,
                "landlord": draw(st.sampled_from(sorted(LANDLORDS))),
                "provider": draw(st.sampled_from([None, *sorted(PROVIDERS)])),
            }
        )
        if move_out is None:
            break
        start = move_out + timedelta(days=draw(st.integers(0, 200)))
    groups = sorted(draw(st.sets(st.sampled_from(GROUPS), max_size=2)))
    # Shuffled: the computation must not rely on the order rows arrive in.
    unit = draw(st.sampled_from([None, *UNITS]))
    return {"tenancies": draw(st.permutations(tenancies)), "groups": groups, "unit": unit}


horizons = st.one_of(st.sampled_from([0, 1, 12]), st.integers(0, 40))


def as_data(people):
    rows = {}
    pk = 0
    for pid, p in enumerate(people, start=1):
        own = []
        for t in p["tenancies"]:
            pk += 1
            own.append(
                (
                    t["move_in"],
                    t["move_out"],
                    t["exit_reason"],
                    t["contract_type"],
                    t["takeover"],
                    t["landlord"],
                    pk,
                    pid,
                    t.get("provider"),
                )
            )
        rows[pid] = retention.Person(
            tenancies=sorted(own, key=lambda r: (r[0], r[6])),
            target_groups=tuple(p["groups"]),
            referring_unit=p.get("unit"),
        )
    return RetentionData(people=rows, landlords=dict(LANDLORDS), providers=dict(PROVIDERS))


def comparable(result):
    result = {k: v for k, v in result.items() if k not in ("as_of", "months", "target", "filters")}
    return result


def test_the_oracle_reproduces_helsingborg():
    """A sanity check of the oracle itself on the published figures."""
    housed = [
        {
            "tenancies": [
                {
                    "move_in": date(2010, 3, 1),
                    "move_out": None,
                    "exit_reason": "",
                    "contract_type": "social",
                    "takeover": None,
                    "landlord": 1,
                }
            ],
            "groups": [],
        }
    ] * 15
    ended = [
        {
            "tenancies": [
                {
                    "move_in": date(2010, 3, 1),
                    "move_out": date(2011, 3, 1),
                    "exit_reason": reason,
                    "contract_type": "social",
                    "takeover": None,
                    "landlord": 1,
                }
            ],
            "groups": [],
        }
        for reason in ["deceased", "evicted", "evicted", "homelessness"]
    ]
    f = oracle(housed + ended, date(2013, 12, 31), 0)
    assert (f["cohort"], f["housed"], f["lost"], f["deceased"]) == (19, 15, 3, 1)
    assert f["retention_rate"] == 0.8333 and f["meets_target"] is True
    assert f["retention_rate_incl_deceased"] == 0.7895


@st.composite
def cases(draw, max_people):
    """People, a horizon and a reference date; the date is often one of the
    data's own days (a move-in, a move-out, a takeover, a reading day), where
    the "on or before" and "after" boundaries are decided."""
    people = draw(st.lists(person(), max_size=max_people))
    months = draw(horizons)
    days_of_data = sorted(
        {
            day
            for p in people
            for t in p["tenancies"]
            for day in (t["move_in"], t["move_out"], t["takeover"])
            if day is not None
        }
    )
    reading_days = sorted(
        {min(t["move_in"] for t in p["tenancies"]) + relativedelta(months=months) for p in people}
    )
    kind = draw(st.sampled_from(["reading day", "day of the data", "any day"]))
    if kind == "reading day" and reading_days:
        as_of = draw(st.sampled_from(reading_days))
    elif kind == "day of the data" and days_of_data:
        as_of = draw(st.sampled_from(days_of_data))
    else:
        as_of = draw(days(high=date(2026, 6, 30)))
    return people, as_of, months


@settings(max_examples=200, deadline=None)
@given(cases(max_people=30))
def test_every_figure_matches_the_brute_force_oracle(case):
    people, as_of, months = case
    result = retention.compute(as_of=as_of, months=months, data=as_data(people), target=TARGET)
    assert result["as_of"] == as_of.isoformat() and result["months"] == months
    assert comparable(result) == oracle(people, as_of, months)


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases(max_people=6))
def test_figures_read_from_the_database_match_the_oracle(case):
    """The same comparison through real rows, so ``load()`` is covered too."""
    people, as_of, months = case
    with transaction.atomic():
        landlords = {pk: LandlordFactory(name=name) for pk, name in LANDLORDS.items()}
        providers = {pk: ProviderFactory(name=name) for pk, name in PROVIDERS.items()}
        units = {name: ReferringUnitFactory(name=name) for name in UNITS}
        decider = UserFactory()
        target_groups = {g.code: g for g in TargetGroup.objects.all()}
        for p in people:
            participant = ParticipantFactory()
            participant.target_groups.set([target_groups[c] for c in p["groups"]])
            if p["unit"]:
                ReferralFactory(
                    participant=participant,
                    referring_unit=units[p["unit"]],
                    status=ReferralStatus.APPROVED,
                    decided_by=decider,
                    decided_at=timezone.now(),
                )
            for t in p["tenancies"]:
                tenancy = Tenancy(
                    participant=participant,
                    apartment=ApartmentFactory(landlord=landlords[t["landlord"]]),
                    provider=providers[t["provider"]] if t["provider"] else None,
                    **{k: v for k, v in t.items() if k not in ("landlord", "provider")},
                )
                tenancy.save()
        result = retention.compute(as_of=as_of, months=months, target=TARGET)
        transaction.set_rollback(True)
    assert comparable(result) == oracle(people, as_of, months)
