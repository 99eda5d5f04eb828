"""Housing retention, case by case against DESIGN.md's definition."""

from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command

from housing.models import ContractType, ExitReason
from participants.models import TargetGroup, TargetGroupCode
from reports import retention
from reports.cohort import cohort_import
from tests.housing.factories import LandlordFactory

pytestmark = pytest.mark.django_db

D = date(2024, 6, 30)


def figures(as_of=D, months=0, **kwargs):
    return retention.compute(as_of=as_of, months=months, **kwargs)


def status_of(person, as_of=D, months=0):
    data = retention.load(until=as_of)
    for reading in retention.readings(data, as_of=as_of, months=months):
        if reading[retention.R_PID] == person.pk:
            return retention.STATUS_NAMES[reading[retention.R_STATUS]]
    return None


def test_an_active_tenancy_is_housed(tenancy):
    t = tenancy(move_in="2022-01-01")
    assert status_of(t.participant) == retention.HOUSED


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (ExitReason.MOVED_ON, retention.MOVED_ON),
        (ExitReason.OTHER_HF_APARTMENT, retention.HOUSED),
        (ExitReason.DECEASED, retention.DECEASED),
        (ExitReason.EVICTED, retention.LOST),
        (ExitReason.TERMINATED, retention.LOST),
        (ExitReason.HOMELESSNESS, retention.LOST),
        (ExitReason.INSTITUTION, retention.LOST),
        (ExitReason.LOST_CONTACT, retention.LOST),
        (ExitReason.OTHER, retention.LOST),
    ],
)
def test_each_exit_reason_gives_its_status(tenancy, reason, status):
    t = tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=reason)
    assert status_of(t.participant) == status


def test_every_exit_reason_is_covered_by_the_test_above():
    assert len(ExitReason.values) == 9


def test_move_out_exactly_on_the_reading_day_has_ended(tenancy):
    t = tenancy(move_in="2022-01-01", move_out=D.isoformat(), reason=ExitReason.EVICTED)
    assert status_of(t.participant) == retention.LOST


def test_move_out_the_day_after_the_reading_day_is_still_housed(tenancy):
    t = tenancy(move_in="2022-01-01", move_out="2024-07-01", reason=ExitReason.EVICTED)
    assert status_of(t.participant) == retention.HOUSED


def test_a_tenancy_starting_after_the_reference_date_is_not_in_the_cohort(tenancy):
    tenancy(move_in="2024-07-01")
    assert figures()["cohort"] == 0


def test_moving_in_on_the_reference_date_joins_the_cohort_housed(tenancy):
    tenancy(move_in=D.isoformat())
    f = figures()
    assert (f["cohort"], f["housed"]) == (1, 1)


def test_transfer_to_another_hf_apartment_stays_housed(tenancy):
    first = tenancy(
        move_in="2021-01-01", move_out="2022-01-01", reason=ExitReason.OTHER_HF_APARTMENT
    )
    tenancy(first.participant, move_in="2022-01-01")
    assert status_of(first.participant) == retention.HOUSED


def test_status_is_read_from_the_latest_tenancy_started_by_the_reading_day(tenancy):
    first = tenancy(
        move_in="2021-01-01", move_out="2022-01-01", reason=ExitReason.OTHER_HF_APARTMENT
    )
    tenancy(
        first.participant, move_in="2022-01-01", move_out="2023-05-01", reason=ExitReason.EVICTED
    )
    assert status_of(first.participant) == retention.LOST
    # Read before the second tenancy ended: housed.
    assert status_of(first.participant, as_of=date(2023, 4, 30)) == retention.HOUSED


def test_a_gap_after_a_transfer_with_a_later_tenancy_is_housed_again(tenancy):
    first = tenancy(move_in="2021-01-01", move_out="2022-01-01", reason=ExitReason.EVICTED)
    tenancy(first.participant, move_in="2023-01-01")
    assert status_of(first.participant, as_of=date(2022, 6, 1)) == retention.LOST
    assert status_of(first.participant) == retention.HOUSED


def test_horizon_reads_each_person_on_first_move_in_plus_n_months(tenancy):
    # Moved in 2023-01-01, lost the home 2023-09-01: housed at 6 months, lost at 12.
    t = tenancy(move_in="2023-01-01", move_out="2023-09-01", reason=ExitReason.EVICTED)
    assert status_of(t.participant, months=6) == retention.HOUSED
    assert status_of(t.participant, months=12) == retention.LOST


def test_horizon_excludes_people_not_yet_n_months_in(tenancy):
    tenancy(move_in="2024-01-01")  # + 6 months = 2024-07-01, after D
    assert figures()["cohort"] == 1
    assert figures(months=6)["cohort"] == 0
    assert figures(as_of=date(2024, 7, 1), months=6)["cohort"] == 1


def test_horizon_boundary_first_move_in_plus_n_equal_to_d_is_in(tenancy):
    tenancy(move_in="2023-12-30")
    assert figures(months=6)["cohort"] == 1  # 2023-12-30 + 6 months = 2024-06-30 = D
    assert figures(as_of=date(2024, 6, 29), months=6)["cohort"] == 0


def test_horizon_clamps_31_january_plus_one_month_to_the_end_of_february(tenancy):
    # 2024 is a leap year: 31 Jan + 1 month = 29 Feb, the reading day.
    t = tenancy(move_in="2024-01-31", move_out="2024-02-29", reason=ExitReason.EVICTED)
    assert retention.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert retention.add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert figures(as_of=date(2024, 2, 29), months=1)["cohort"] == 1
    assert figures(as_of=date(2024, 2, 28), months=1)["cohort"] == 0
    # Moved out on the reading day itself: the tenancy has ended.
    assert status_of(t.participant, as_of=date(2024, 2, 29), months=1) == retention.LOST


def test_deceased_are_excluded_from_one_rate_and_not_retained_in_the_other(tenancy):
    for _ in range(3):
        tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=ExitReason.DECEASED)
    f = figures()
    assert f["retention_rate"] == 1.0  # 3 / (4 - 1)
    assert f["retention_rate_incl_deceased"] == 0.75  # 3 / 4


def test_empty_cohort_has_no_rates_and_no_errors(db):
    f = figures()
    assert f["cohort"] == 0
    assert f["retention_rate"] is None
    assert f["retention_rate_incl_deceased"] is None
    assert f["meets_target"] is None
    assert f["takeover_share"] is None


def test_only_deceased_gives_no_rate_but_an_incl_deceased_rate_of_zero(tenancy):
    tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=ExitReason.DECEASED)
    f = figures()
    assert f["retention_rate"] is None
    assert f["retention_rate_incl_deceased"] == 0.0


def test_target_met_at_exactly_the_target(tenancy, settings):
    settings.RETENTION_TARGET = 0.80
    for _ in range(4):
        tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=ExitReason.EVICTED)
    f = figures()
    assert f["retention_rate"] == 0.8
    assert f["meets_target"] is True
    assert f["target"] == 0.80


def test_rates_are_rounded_half_up_to_four_decimals():
    # 1/32 = 0.03125 exactly: a tie that float rounding would send to 0.0312.
    counts = retention.Counts(cohort=32, housed=1, lost=31)
    assert counts.as_dict(0.8)["retention_rate"] == 0.0313
    assert retention.Counts(cohort=3, housed=2, lost=1).as_dict(0.8)["retention_rate"] == 0.6667
    assert retention.Counts(cohort=160, housed=1, lost=159).as_dict(0.8)["retention_rate"] == 0.0063


def test_target_is_a_setting(tenancy, settings):
    settings.RETENTION_TARGET = 0.9
    for _ in range(4):
        tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=ExitReason.EVICTED)
    assert figures()["meets_target"] is False


def test_takeover_share_counts_social_contracts_taken_over_by_the_reading_day(tenancy):
    social = ContractType.SOCIAL
    tenancy(move_in="2021-01-01", contract_type=social, takeover=date(2022, 1, 1))
    tenancy(move_in="2021-01-01", contract_type=social, takeover=date(2024, 7, 1))  # after D
    tenancy(move_in="2021-01-01", contract_type=social)
    tenancy(move_in="2021-01-01")  # first-hand: not in the share at all
    f = figures()
    assert f["takeover_share"] == round(1 / 3, 4)


def test_no_social_contracts_gives_no_takeover_share(tenancy):
    tenancy(move_in="2021-01-01")
    assert figures()["takeover_share"] is None


def test_breakdowns_use_the_first_tenancy_and_target_groups(tenancy):
    a = LandlordFactory(name="Heimstaden")
    b = LandlordFactory(name="Sandvikenhus")
    first = tenancy(
        move_in="2020-05-01",
        move_out="2021-01-01",
        reason=ExitReason.OTHER_HF_APARTMENT,
        landlord=a,
        contract_type=ContractType.SOCIAL,
    )
    tenancy(first.participant, move_in="2021-01-01", landlord=b)
    first.participant.target_groups.add(
        TargetGroup.objects.get(code=TargetGroupCode.YOUNG_ADULTS),
        TargetGroup.objects.get(code=TargetGroupCode.COMPLEX_NEEDS),
    )
    tenancy(move_in="2022-02-01", move_out="2023-01-01", reason=ExitReason.EVICTED, landlord=b)
    f = figures()
    bd = f["breakdown"]
    assert bd["landlord"]["Heimstaden"]["housed"] == 1
    assert bd["landlord"]["Sandvikenhus"]["lost"] == 1
    assert bd["contract_type"]["social"]["cohort"] == 1
    assert bd["contract_type"]["first_hand"]["cohort"] == 1
    assert bd["move_in_year"]["2020"]["retention_rate"] == 1.0
    assert bd["move_in_year"]["2022"]["retention_rate"] == 0.0
    assert bd["target_group"]["young_adults"]["cohort"] == 1
    assert bd["target_group"]["complex_needs"]["cohort"] == 1
    assert bd["target_group"]["none"]["cohort"] == 1


def test_filters_narrow_the_cohort_by_the_first_tenancy(tenancy):
    a = LandlordFactory(name="Heimstaden")
    tenancy(move_in="2020-05-01", landlord=a)
    tenancy(move_in="2021-05-01", contract_type=ContractType.SOCIAL)
    assert figures(filters={"landlord": a.pk})["cohort"] == 1
    assert figures(filters={"contract_type": "social"})["cohort"] == 1
    assert figures(filters={"move_in_year": 2021})["cohort"] == 1
    assert figures(filters={"target_group": "elderly"})["cohort"] == 0


HELSINGBORG = Path(__file__).with_name("helsingborg.csv")


def _check_helsingborg(f):
    assert f["cohort"] == 19
    assert f["housed"] == 15
    assert f["deceased"] == 1
    assert f["lost"] == 3
    assert f["moved_on"] == 0
    assert f["retention_rate"] == 0.8333
    assert f["retention_rate_incl_deceased"] == 0.7895
    assert f["meets_target"] is True


def test_helsingborg_published_figures(db):
    result = cohort_import(data=HELSINGBORG.read_bytes(), filename=HELSINGBORG.name)
    assert result.ok, result.errors
    _check_helsingborg(figures(as_of=date(2013, 12, 31)))


def test_helsingborg_figures_through_import_cohort_and_retention_report(db, tmp_path):
    import json

    call_command("import_cohort", str(HELSINGBORG))
    out = tmp_path / "r.json"
    call_command("retention_report", "--as-of", "2013-12-31", "--output", str(out))
    data = json.loads(out.read_text())
    _check_helsingborg(data)
    assert set(data) >= {
        "as_of",
        "months",
        "cohort",
        "housed",
        "moved_on",
        "lost",
        "deceased",
        "retention_rate",
        "retention_rate_incl_deceased",
        "target",
        "meets_target",
        "takeover_share",
        "breakdown",
    }
    assert data["as_of"] == "2013-12-31" and data["months"] == 0
    assert set(data["breakdown"]) == {
        "landlord",
        "contract_type",
        "move_in_year",
        "target_group",
        "referring_unit",
        "provider",
    }
    assert data["takeover_share"] == round(2 / 19, 4)


def test_retention_report_csv_has_a_total_row_and_breakdowns(db, tmp_path):
    call_command("import_cohort", str(HELSINGBORG))
    out = tmp_path / "r.csv"
    call_command(
        "retention_report", "--as-of", "2013-12-31", "--format", "csv", "--output", str(out)
    )
    lines = out.read_text().splitlines()
    assert lines[1].startswith("all,,19,15,0,3,1,0.8333,0.7895,true")
    assert any(line.startswith("landlord,Helsingborgshem,19") for line in lines)


def test_survival_curve_censors_housed_moved_on_and_deceased(tenancy):
    tenancy(move_in="2022-01-01")  # housed: censored at D
    tenancy(
        move_in="2022-01-01", move_out="2022-03-15", reason=ExitReason.EVICTED
    )  # event, month 2
    tenancy(move_in="2022-01-01", move_out="2022-02-15", reason=ExitReason.MOVED_ON)  # censored
    tenancy(move_in="2022-01-01", move_out="2022-02-15", reason=ExitReason.DECEASED)  # censored
    points = retention.survival(retention.load(until=D), as_of=D)
    assert points[0]["at_risk"] == 4
    assert sum(p["events"] for p in points) == 1
    assert sum(p["censored"] for p in points) == 3
    month2 = points[2]
    assert month2["events"] == 1 and month2["at_risk"] == 2
    assert month2["survival"] == 0.5
    assert points[-1]["survival"] == 0.5


def test_quarter_ends_are_the_most_recent_on_or_before_the_date():
    assert retention.quarter_ends(date(2024, 6, 30), 3) == [
        date(2023, 12, 31),
        date(2024, 3, 31),
        date(2024, 6, 30),
    ]
    assert retention.quarter_ends(date(2024, 6, 29), 2) == [date(2023, 12, 31), date(2024, 3, 31)]
