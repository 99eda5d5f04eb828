"""Socialstyrelsen's homelessness count: the rule per situation, the anonymous
export (re-opened and read back) and who may open it."""

import csv
import io
import random
from datetime import date, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bostadforst.exports import DATE_FORMAT
from bostadforst.models import AccessLogEntry
from housing.models import ContractType, ExitReason
from participants.models import (
    HousingSituation,
    IdentityProtection,
    MatchStatus,
    ParticipantStatus,
    SupportNeed,
    TemporaryArrangement,
)
from participants.personnummer import generate, legal_sex
from reports import homelessness_count as count
from reports.homelessness_count import UNKNOWN, IsoWeek, default_week, homelessness_count
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import CrisisPlacementFactory

pytestmark = pytest.mark.django_db

# Socialstyrelsen's week in 2023: Monday 3 to Sunday 9 April.
WEEK = IsoWeek(2023, 14)
MONDAY, WEDNESDAY, SUNDAY = date(2023, 4, 3), date(2023, 4, 5), date(2023, 4, 9)
# A made-up number to look for in the exports.
PLANTED = generate(random.Random(5), born_from=date(1980, 1, 1), born_to=date(1980, 12, 31))


def d(text: str) -> date:
    return date.fromisoformat(text)


def referred(situation=HousingSituation.ACUTE, on="2023-01-10", since="2022-06-01", **kwargs):
    """A person referred on ``on`` from ``situation`` (since ``since``)."""
    kwargs.setdefault("participant__status", ParticipantStatus.APPROVED)
    return ReferralFactory(
        referral_date=d(on),
        housing_situation=situation,
        situation_since=d(since) if since else None,
        **kwargs,
    ).participant


def housed(person, move_in="2023-02-01", contract=ContractType.SOCIAL, **kwargs):
    for key in ("move_out", "takeover"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = d(kwargs[key])
    return TenancyFactory(participant=person, move_in=d(move_in), contract_type=contract, **kwargs)


def situation_of(person):
    """The person's row in the week's count, or None when not counted."""
    rows = [r for r in homelessness_count(week=WEEK).rows if r.sort_key == person.pk]
    assert len(rows) <= 1
    return rows[0] if rows else None


# --- The week ----------------------------------------------------------------------


def test_iso_weeks_parse_the_week_input_and_refuse_weeks_a_year_lacks():
    assert IsoWeek.parse("2023-W14") == WEEK
    assert IsoWeek.parse("2023-14") == WEEK == IsoWeek.parse(" 2023w14 ")
    assert (WEEK.first_day, WEEK.last_day) == (MONDAY, SUNDAY)
    assert IsoWeek.parse("2020-W53") is not None  # 2020 has 53 weeks
    assert IsoWeek.parse("2023-W53") is None
    assert IsoWeek.parse("2023-W00") is None
    assert IsoWeek.parse("=1+1") is None
    # 1 January 2021 is in week 53 of 2020.
    assert IsoWeek.of(date(2021, 1, 1)) == IsoWeek(2020, 53)


def test_the_default_week_is_this_years_survey_week_once_it_has_begun():
    assert default_week(date(2026, 11, 23)) == IsoWeek(2026, 14)
    assert default_week(date(2026, 3, 30)) == IsoWeek(2026, 14)  # its Monday
    assert default_week(date(2026, 3, 29)) == IsoWeek(2025, 14)


def test_legal_sex_is_the_birth_numbers_last_digit_odd_for_men():
    assert legal_sex("198112189876") == "male"  # ...987 6: 7 is odd
    assert legal_sex("198112189884") == "female"  # ...988 4: 8 is even


# --- The four situations and "not homeless" ----------------------------------------


def test_situation_1_from_the_referral_with_the_time_since():
    person = referred(HousingSituation.ACUTE, since="2022-06-01")
    row = situation_of(person)
    assert row.situation == HousingSituation.ACUTE
    assert row.basis == count.BASIS_REFERRAL
    assert row.months_homeless == 10  # 2022-06-01 to Sunday 2023-04-09
    assert row.duration_group == "6 till 12 månader"


def test_situation_2_from_the_referral():
    person = referred(HousingSituation.INSTITUTION, since=None)
    row = situation_of(person)
    assert row.situation == HousingSituation.INSTITUTION
    assert row.months_homeless is None and row.duration_group == "Uppgift saknas"


def test_situation_3_is_a_social_contract_in_the_programme():
    person = referred(HousingSituation.ACUTE, since="2020-01-15")
    housed(person, contract=ContractType.SOCIAL)
    row = situation_of(person)
    assert row.situation == HousingSituation.SOCIAL_SOLUTION
    assert row.basis == count.BASIS_SOCIAL_CONTRACT
    # Situation 3 is homelessness: the spell goes on from the referral's date.
    assert row.months_homeless == 38


def test_situation_4_with_its_kind_of_arrangement():
    person = referred(
        HousingSituation.SHORT_TERM_OWN, temporary_arrangement=TemporaryArrangement.FRIENDS
    )
    row = situation_of(person)
    assert row.situation == HousingSituation.SHORT_TERM_OWN
    assert row.arrangement == TemporaryArrangement.FRIENDS


def test_a_first_hand_contract_or_a_taken_over_one_is_not_homeless():
    first_hand = referred()
    housed(first_hand, contract=ContractType.FIRST_HAND)
    taken_over = referred()
    housed(taken_over, takeover="2023-03-01")
    for person, basis in ((first_hand, count.BASIS_FIRST_HAND), (taken_over, count.BASIS_TAKEOVER)):
        row = situation_of(person)
        assert row.situation == HousingSituation.NOT_HOMELESS
        assert row.basis == basis
        assert row.duration_group == "" and row.months_homeless is None


def test_the_referrals_not_homeless_is_not_homeless():
    person = referred(HousingSituation.NOT_HOMELESS, since=None)
    assert situation_of(person).situation == HousingSituation.NOT_HOMELESS


# --- Who is in the count -----------------------------------------------------------


def test_a_person_who_left_before_the_week_is_not_counted():
    person = referred()
    housed(person, move_out="2023-03-01", exit_reason=ExitReason.EVICTED)
    person.status, person.closed_on = ParticipantStatus.EXITED, d("2023-03-01")
    person.save()
    assert situation_of(person) is None
    # Closed on the week's Monday: out from the first day.
    person.closed_on = MONDAY
    person.save()
    assert situation_of(person) is None


def test_a_person_who_left_during_the_week_is_counted_as_they_were():
    person = referred()
    housed(person, move_out="2023-04-05", exit_reason=ExitReason.EVICTED)
    person.status, person.closed_on = ParticipantStatus.EXITED, WEDNESDAY
    person.save()
    row = situation_of(person)
    assert row.situation == HousingSituation.SOCIAL_SOLUTION


def test_a_person_referred_after_the_week_is_not_counted():
    person = referred(on="2023-04-10")
    assert situation_of(person) is None
    assert situation_of(referred(on="2023-04-09")).situation == HousingSituation.ACUTE


def test_a_referral_waiting_for_a_confirmed_match_does_not_count():
    person = referred(on="2023-04-01", match=MatchStatus.PENDING)
    assert situation_of(person) is None


def test_a_person_who_died_before_the_week_is_not_counted_even_with_the_case_open():
    person = referred()
    housed(person, move_out="2023-03-01", exit_reason=ExitReason.DECEASED)
    assert situation_of(person) is None


def test_an_imported_person_without_a_referral_counts_by_their_tenancy():
    person = ParticipantFactory(imported=True, status=ParticipantStatus.HOUSED)
    housed(person, contract=ContractType.SOCIAL, move_in="2022-05-01")
    row = situation_of(person)
    assert row.situation == HousingSituation.SOCIAL_SOLUTION
    assert row.sex == "" and row.birth_year is None and row.age_group == "Uppgift saknas"
    assert row.addiction is None


# --- Crisis places, moves and changes during the week ------------------------------


def test_a_crisis_place_while_the_tenancy_goes_on_changes_nothing():
    person = referred()
    housed(person, contract=ContractType.SOCIAL)
    CrisisPlacementFactory(participant=person, start=d("2023-04-02"), end=d("2023-04-06"))
    row = situation_of(person)
    assert row.situation == HousingSituation.SOCIAL_SOLUTION
    assert row.at_crisis_place is True
    first_hand = referred()
    housed(first_hand, contract=ContractType.FIRST_HAND)
    CrisisPlacementFactory(participant=first_hand, start=MONDAY, end=None)
    assert situation_of(first_hand).situation == HousingSituation.NOT_HOMELESS


def test_a_crisis_place_without_a_tenancy_is_acute_homelessness():
    person = referred(HousingSituation.SHORT_TERM_OWN, since="2023-01-01")
    CrisisPlacementFactory(participant=person, start=d("2023-04-07"), end=None)
    row = situation_of(person)
    assert row.situation == HousingSituation.ACUTE
    assert row.basis == count.BASIS_CRISIS_PLACE
    assert row.arrangement == ""


def test_moving_in_during_the_week_counts_the_situation_at_the_end_of_it():
    shelter_to_social = referred(HousingSituation.ACUTE)
    housed(shelter_to_social, move_in="2023-04-05", contract=ContractType.SOCIAL)
    assert situation_of(shelter_to_social).situation == HousingSituation.SOCIAL_SOLUTION
    # Homeless until Tuesday, then a first-hand contract: counted as of Tuesday.
    friends_to_own = referred(HousingSituation.SHORT_TERM_OWN)
    housed(friends_to_own, move_in="2023-04-05", contract=ContractType.FIRST_HAND)
    row = situation_of(friends_to_own)
    assert row.situation == HousingSituation.SHORT_TERM_OWN


def test_a_takeover_during_the_week_still_counts_in_situation_3():
    person = referred()
    housed(person, contract=ContractType.SOCIAL, takeover="2023-04-05")
    assert situation_of(person).situation == HousingSituation.SOCIAL_SOLUTION


def test_after_an_eviction_the_situation_is_unknown_until_a_new_referral():
    person = referred()
    housed(person, move_out="2023-03-01", exit_reason=ExitReason.EVICTED)
    row = situation_of(person)
    assert row.situation == UNKNOWN and row.basis == count.BASIS_EXIT
    # A new referral after the eviction tells where the person is.
    ReferralFactory(
        participant=person,
        referral_date=d("2023-03-15"),
        housing_situation=HousingSituation.ACUTE,
        situation_since=d("2023-03-01"),
    )
    assert situation_of(person).situation == HousingSituation.ACUTE
    assert situation_of(person).months_homeless == 1


def test_moving_on_to_other_housing_is_not_homeless():
    person = referred()
    housed(person, move_out="2023-03-01", exit_reason=ExitReason.MOVED_ON)
    assert situation_of(person).situation == HousingSituation.NOT_HOMELESS


def test_the_spell_starts_again_after_a_first_hand_tenancy():
    person = referred(since="2015-01-01")
    housed(
        person,
        move_in="2020-01-01",
        contract=ContractType.FIRST_HAND,
        move_out="2023-01-09",
        exit_reason=ExitReason.EVICTED,
    )
    CrisisPlacementFactory(participant=person, start=d("2023-01-09"), end=None)
    row = situation_of(person)
    assert row.situation == HousingSituation.ACUTE
    assert row.months_homeless == 3  # since the move-out, not since 2015


# --- Protected identity --------------------------------------------------------------


def test_a_protected_person_is_counted_but_not_identified():
    person = referred(
        HousingSituation.ACUTE,
        participant__identity_protection=IdentityProtection.PROTECTED_REGISTRATION,
    )
    row = situation_of(person)
    assert row.situation == HousingSituation.ACUTE and row.protected
    assert row.birth_year is None and row.months_homeless is None
    assert row.age_group != "Uppgift saknas" and row.sex in ("female", "male")
    assert row.duration_group  # the coarse group is kept
    assert homelessness_count(week=WEEK).counts()[HousingSituation.ACUTE]["total"] == 1


def test_the_count_takes_a_fixed_number_of_queries(django_assert_num_queries):
    for _ in range(3):
        person = referred()
        housed(person)
        CrisisPlacementFactory(participant=person, start=MONDAY)
    with django_assert_num_queries(4):
        first = homelessness_count(week=WEEK)
    for _ in range(5):
        referred()
    with django_assert_num_queries(4):
        assert len(homelessness_count(week=WEEK).rows) == len(first.rows) + 5


# --- The page and the export ---------------------------------------------------------


@pytest.fixture
def world_of_four():
    """One person in each situation, one not homeless, one protected person
    (with a name and number planted to look for) and one who left before."""
    referred(HousingSituation.ACUTE, participant__personnummer=PLANTED)
    referred(HousingSituation.INSTITUTION)
    housed(referred(), contract=ContractType.SOCIAL)
    referred(HousingSituation.SHORT_TERM_OWN, temporary_arrangement=TemporaryArrangement.RELATIVES)
    housed(referred(), contract=ContractType.FIRST_HAND)
    protected = referred(
        HousingSituation.ACUTE,
        support_need=SupportNeed.ADDICTION,
        participant__first_name="Hemligfornamn",
        participant__last_name="Hemligefternamn",
        participant__personnummer=generate(random.Random(7)),
        participant__identity_protection=IdentityProtection.FICTITIOUS_IDENTITY,
    )
    gone = referred(HousingSituation.ACUTE)
    gone.status, gone.closed_on = ParticipantStatus.EXITED, d("2023-02-01")
    gone.save()
    return protected


def xlsx_url(week=WEEK):
    return reverse("reports:homelessness-count-xlsx", kwargs={"year": week.year, "week": week.week})


def test_the_xlsx_reopens_with_the_rows_and_the_summary(um_client, world_of_four):
    protected = world_of_four
    response = um_client.get(xlsx_url())
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="hemloshet-2023-W14.xlsx"'
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    people, summary = book.worksheets
    assert (people.title, summary.title) == ("Personer", "Antal per situation")
    assert people.freeze_panes == "A2" and summary.freeze_panes == "A2"
    header = [c.value for c in people[1]]
    assert header[:4] == ["Rad", "Vecka", "Situation (1–4)", "Boendesituation"]
    assert all(c.font.b for c in people[1])
    rows = [[c.value for c in row] for row in people.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]  # row numbers, not ids
    assert [r[2] for r in rows] == [1, 1, 2, 3, 4, None]
    assert rows[4][4] == "Inneboende hos anhörig eller släkting"
    assert rows[5][3] == "Inte hemlös"
    assert {r[1] for r in rows} == {"2023-W14"}
    # The protected person: counted (situation 1), no birth year or months.
    protected_rows = [r for r in rows if r[13] == "Ja" and r[14] == "Nej"]
    assert len(protected_rows) == 1
    assert protected_rows[0][2] == 1
    assert protected_rows[0][8] is None and protected_rows[0][11] is None
    others = [r for r in rows if r is not protected_rows[0]]
    assert all(isinstance(r[8], int) for r in others)
    # No personnummer, name or id anywhere in the workbook.
    text = " ".join(
        str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row
    )
    for person_text in (PLANTED, PLANTED[:8], "Hemlig", protected.personnummer[:8]):
        assert person_text not in text

    counts = {row[0].value: [c.value for c in row[1:5]] for row in summary.iter_rows(min_row=2)}
    assert summary["A1"].value == "Boendesituation" and summary["B1"].value == "Antal personer"
    assert counts[str(HousingSituation.ACUTE.label)][0] == 2
    assert counts[str(HousingSituation.INSTITUTION.label)][0] == 1
    assert counts["Hemlösa enligt Socialstyrelsens definition (situation 1–4)"][0] == 5
    assert counts["Inte hemlös"][0] == 1
    assert counts["Alla i programmet under veckan"][0] == 6
    first_day = next(r for r in summary.iter_rows() if r[0].value == "Första dagen")[1]
    assert first_day.is_date and first_day.number_format == DATE_FORMAT
    assert first_day.value.date() == MONDAY


def test_the_csv_twin_has_the_same_rows(um_client, world_of_four):
    url = xlsx_url().removesuffix(".xlsx") + ".csv"
    assert url == reverse("reports:homelessness-count-csv", kwargs={"year": 2023, "week": 14})
    response = um_client.get(url)
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][0] == "Rad" and len(lines) == 7
    assert "Hemlig" not in response.content.decode("utf-8-sig")


def test_every_download_is_logged_as_an_export(um_client, unit_manager, world_of_four):
    um_client.get(xlsx_url())
    um_client.get(reverse("reports:homelessness-count-csv", kwargs={"year": 2023, "week": 14}))
    logged = AccessLogEntry.objects.filter(user=unit_manager, action=AccessLogEntry.Action.EXPORT)
    assert logged.count() == 2
    assert set(logged.values_list("model", flat=True)) == {"reports.homelessness_count"}
    assert set(logged.values_list("view_name", flat=True)) == {
        "reports:homelessness-count-xlsx",
        "reports:homelessness-count-csv",
    }
    # Anonymous rows: no person is named in the log.
    assert set(logged.values_list("person_id", flat=True)) == {None}


def test_the_page_shows_the_counts_in_swedish_for_the_chosen_week(um_client, world_of_four):
    response = um_client.get(reverse("reports:homelessness-count"), {"week": "2023-W14"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vecka 2023-W14 (2023-04-03 – 2023-04-09)" in html
    assert "Hemlösa enligt Socialstyrelsens definition" in html
    assert xlsx_url() in html
    assert "Hemlig" not in html
    assert 'style="' not in html


def test_the_page_defaults_to_the_survey_week(um_client):
    response = um_client.get(reverse("reports:homelessness-count"))
    assert response.status_code == 200
    assert response.context["week"] == default_week(date.today())


@pytest.mark.parametrize(
    ("week", "message"),
    [("vecka fjorton", "ÅÅÅÅ-Vnn"), ("2023-W53", "ÅÅÅÅ-Vnn"), ("2999-W01", "inte börjat")],
)
def test_a_bad_week_answers_400_in_swedish(um_client, week, message):
    response = um_client.get(reverse("reports:homelessness-count"), {"week": week})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_week_the_year_lacks_or_in_the_future_is_not_found(um_client):
    assert um_client.get(xlsx_url(IsoWeek(2023, 53))).status_code == 404
    assert um_client.get(xlsx_url(IsoWeek(2999, 1))).status_code == 404
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()


@pytest.mark.parametrize("fixture", ["sw_client", "ss_client", "admin_user_client"])
def test_other_roles_are_refused(request, fixture):
    client = request.getfixturevalue(fixture)
    for url in (
        reverse("reports:homelessness-count"),
        xlsx_url(),
        reverse("reports:homelessness-count-csv", kwargs={"year": 2023, "week": 14}),
    ):
        assert client.get(url).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(xlsx_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- The rule against a day-by-day oracle ------------------------------------------


def _oracle_day(day, referrals, tenancies, placements):
    """The definition of one day's situation, written again from the module
    docstring without the module's helpers (None: not alive)."""
    for t in sorted(tenancies, key=lambda t: (t.move_in, t.pk), reverse=True):
        if t.move_in <= day and (t.move_out is None or day < t.move_out):
            if t.contract_type == ContractType.FIRST_HAND:
                return HousingSituation.NOT_HOMELESS
            if t.takeover is not None and t.takeover <= day:
                return HousingSituation.NOT_HOMELESS
            return HousingSituation.SOCIAL_SOLUTION
    for p in placements:
        if p.start <= day and (p.end is None or day < p.end):
            return HousingSituation.ACUTE
    earlier = [r for r in referrals if r.referral_date <= day]
    latest = max(earlier, key=lambda r: (r.referral_date, r.pk)) if earlier else None
    ended = [t for t in tenancies if t.move_out is not None and t.move_out <= day]
    last_end = max(ended, key=lambda t: (t.move_out, t.pk)) if ended else None
    if last_end is not None and (latest is None or latest.referral_date < last_end.move_out):
        return {
            ExitReason.DECEASED: None,
            ExitReason.MOVED_ON: HousingSituation.NOT_HOMELESS,
        }.get(last_end.exit_reason, UNKNOWN)
    return latest.housing_situation if latest is not None else UNKNOWN


def _days_strategy():
    from hypothesis import strategies as st

    return st.integers(min_value=-20, max_value=20).map(lambda n: WEDNESDAY + timedelta(days=n))


def _history():
    from types import SimpleNamespace

    from hypothesis import strategies as st

    day = _days_strategy()
    referral = st.builds(
        lambda on, situation, pk: SimpleNamespace(
            pk=pk,
            referral_date=on,
            housing_situation=situation,
            temporary_arrangement="",
            situation_since=None,
        ),
        day,
        st.sampled_from(list(HousingSituation)),
        st.integers(1, 10**6),
    )

    def tenancy(move_in, length, contract, takeover_after, reason, pk):
        move_out = move_in + timedelta(days=length) if length else None
        takeover = None
        if contract == ContractType.SOCIAL and takeover_after is not None:
            takeover = move_in + timedelta(days=takeover_after)
            if move_out is not None and takeover >= move_out:
                takeover = None
        return SimpleNamespace(
            pk=pk,
            move_in=move_in,
            move_out=move_out,
            contract_type=contract,
            takeover=takeover,
            exit_reason=reason if move_out else "",
        )

    tenancies = st.builds(
        tenancy,
        day,
        st.one_of(st.none(), st.integers(1, 15)),
        st.sampled_from(list(ContractType)),
        st.one_of(st.none(), st.integers(0, 10)),
        st.sampled_from(list(ExitReason)),
        st.integers(1, 10**6),
    )
    placement = st.builds(
        lambda start, length: SimpleNamespace(
            start=start, end=start + timedelta(days=length) if length else None
        ),
        day,
        st.one_of(st.none(), st.integers(1, 10)),
    )
    return st.tuples(
        st.lists(referral, max_size=3),
        # One tenancy at a time, as the database guarantees.
        st.lists(tenancies, max_size=3).filter(_no_overlap),
        st.lists(placement, max_size=2),
        st.one_of(st.none(), day),
    )


def _no_overlap(tenancies) -> bool:
    far = date.max
    spans = sorted((t.move_in, t.move_out or far) for t in tenancies)
    return all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_the_week_situation_agrees_with_the_day_by_day_oracle():
    from hypothesis import given, settings

    @settings(max_examples=200, deadline=None)
    @given(_history())
    def check(history):
        referrals, tenancies, placements, closed_on = history
        found = count.week_situation(
            week=WEEK,
            referrals=referrals,
            tenancies=tenancies,
            placements=placements,
            closed_on=closed_on,
        )
        starts = [r.referral_date for r in referrals] + [t.move_in for t in tenancies]
        in_programme = [
            day
            for day in WEEK.days
            if starts
            and min(starts) <= day
            and (closed_on is None or day < closed_on)
            and _oracle_day(day, referrals, tenancies, placements) is not None
        ]
        if not in_programme:
            assert found is None
            return
        situations = {
            day: _oracle_day(day, referrals, tenancies, placements) for day in in_programme
        }
        homeless = [d for d in in_programme if situations[d] in count.HOMELESS]
        unknown = [d for d in in_programme if situations[d] == UNKNOWN]
        expected_day = (homeless or unknown or in_programme)[-1]
        assert (found.situation, found.day) == (situations[expected_day], expected_day)

    check()
