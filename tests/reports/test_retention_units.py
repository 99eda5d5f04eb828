"""Retention by referring unit and by provider (issue 18 item 1): the unit of
each person's first approved referral, the provider of their first tenancy,
"none recorded" as a group of its own, and the groups summing to the total."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from housing.models import ExitReason
from participants.models import ReferralStatus
from reports import retention
from reports.presentation import breakdown_tables
from tests.factories import UserFactory
from tests.housing.factories import ProviderFactory
from tests.participants.factories import ReferralFactory, ReferringUnitFactory

pytestmark = pytest.mark.django_db

D = date(2024, 6, 30)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
COUNTS = ("cohort", "housed", "moved_on", "lost", "deceased")


def referral(person, unit, *, decided: str | None, status=ReferralStatus.APPROVED):
    decider = UserFactory()
    at = datetime.fromisoformat(decided).replace(tzinfo=STOCKHOLM) if decided else None
    return ReferralFactory(
        participant=person,
        referring_unit=unit,
        status=status,
        decided_by=decider if at else None,
        decided_at=at,
        referral_date=(at.date() if at else D) - timedelta(days=10),
        decline_reason="Bor redan stadigvarande." if status == ReferralStatus.DECLINED else "",
    )


@pytest.fixture
def world(tenancy):
    norr = ReferringUnitFactory(name="Stadsdelsförvaltning Norr")
    soder = ReferringUnitFactory(name="Stadsdelsförvaltning Söder")
    team = ProviderFactory(name="Kommunens Bostad först-team")
    iop = ProviderFactory(name="Stadsmissionen (IOP)", kind="iop_partner")
    # a: first approved referral from Norr (a later one from Söder); first
    # tenancy with the IOP partner, the next with the team.
    a = tenancy(
        move_in="2020-05-01", move_out="2021-01-01", reason="other_hf_apartment", provider=iop
    )
    tenancy(a.participant, move_in="2021-01-01", provider=team)
    referral(a.participant, soder, decided="2021-03-01T10:00")
    referral(a.participant, norr, decided="2020-03-01T10:00")
    # b: no referral at all (imported), tenancy without a provider; lost it.
    tenancy(move_in="2021-02-01", move_out="2022-01-01", reason=ExitReason.EVICTED)
    # c: an earlier declined referral from Söder does not count; the first
    # approved one names no unit, so c has none recorded.
    c = tenancy(move_in="2022-02-01", provider=team)
    referral(c.participant, soder, decided="2021-10-01T10:00", status=ReferralStatus.DECLINED)
    referral(c.participant, None, decided="2021-12-01T10:00")
    referral(c.participant, norr, decided="2022-01-10T10:00")
    # d: moved on, referred by Söder, provider the team.
    d = tenancy(move_in="2021-06-01", move_out="2023-06-01", reason="moved_on", provider=team)
    referral(d.participant, soder, decided="2021-04-01T10:00")
    # e: deceased, Norr, IOP.
    e = tenancy(move_in="2022-06-01", move_out="2023-02-01", reason="deceased", provider=iop)
    referral(e.participant, norr, decided="2022-05-01T09:00")
    return {"a": a, "c": c, "d": d, "e": e}


def test_the_unit_is_the_first_approved_referrals_and_the_provider_the_first_tenancys(world):
    bd = retention.compute(as_of=D)["breakdown"]
    units = {k: v["cohort"] for k, v in bd["referring_unit"].items()}
    providers = {k: v["cohort"] for k, v in bd["provider"].items()}
    assert units == {
        "Stadsdelsförvaltning Norr": 2,  # a (not Söder, approved later), e
        "Stadsdelsförvaltning Söder": 1,  # d
        retention.NO_UNIT: 2,  # b (no referral), c (first approved names none)
    }
    assert providers == {
        "Stadsmissionen (IOP)": 2,  # a (first tenancy), e
        "Kommunens Bostad först-team": 2,  # c, d
        retention.NO_PROVIDER: 1,  # b
    }
    assert bd["referring_unit"]["Stadsdelsförvaltning Norr"]["housed"] == 1
    assert bd["referring_unit"]["Stadsdelsförvaltning Norr"]["deceased"] == 1
    assert bd["provider"][retention.NO_PROVIDER]["lost"] == 1


@pytest.mark.parametrize("months", [0, 12, 24])
@pytest.mark.parametrize("dimension", ["referring_unit", "provider"])
def test_the_groups_sum_to_the_total(world, months, dimension):
    figures = retention.compute(as_of=D, months=months)
    groups = figures["breakdown"][dimension]
    for key in (*COUNTS, "social", "took_over"):
        if key not in figures:
            continue
        assert sum(g[key] for g in groups.values()) == figures[key], key
    assert figures["cohort"] > 0


def test_none_recorded_is_its_own_row_in_swedish():
    from django.utils import translation

    figures = {
        "breakdown": {
            "referring_unit": {retention.NO_UNIT: {**dict.fromkeys(COUNTS, 1), **RATES}},
            "provider": {retention.NO_PROVIDER: {**dict.fromkeys(COUNTS, 1), **RATES}},
        }
    }
    with translation.override("sv"):
        tables = {t.key: t for t in breakdown_tables(figures)}
        unit, provider = tables["breakdown-referring_unit"], tables["breakdown-provider"]
        assert unit.title == "Per remitterande enhet (första beviljade remissen)"
        assert unit.rows[0][0] == "Ingen remitterande enhet angiven"
        assert provider.title == "Per utförare (första boendet)"
        assert provider.rows[0][0] == "Ingen utförare angiven"


RATES = {"retention_rate": 1.0, "retention_rate_incl_deceased": 1.0, "takeover_share": None}


def test_the_dashboard_shows_both_breakdowns(world, um_client):
    page = um_client.get(reverse("reports:dashboard"), {"as_of": D.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Per remitterande enhet" in html and "Per utförare" in html
    assert "Stadsmissionen (IOP)" in html and "Ingen remitterande enhet angiven" in html


def test_the_dashboard_csv_of_a_breakdown_lists_the_units(world, um_client):
    url = reverse("reports:dashboard")
    page = um_client.get(url, {"as_of": D.isoformat()})
    links = [
        href
        for href in _hrefs(page.content.decode())
        if "breakdown-referring_unit" in href and "csv" in href
    ]
    assert links, "no CSV download for the unit breakdown"
    csv = um_client.get(links[0].replace("&amp;", "&"))
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode("utf-8-sig")
    assert "Stadsdelsförvaltning Norr" in body and "Ingen remitterande enhet angiven" in body


def _hrefs(html: str) -> list[str]:
    import re

    return re.findall(r'href="([^"]+)"', html)
