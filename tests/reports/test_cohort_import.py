"""The cohort import: all or nothing, line-numbered errors, idempotent."""

import random
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from bostadforst.models import AccessLogEntry
from housing.models import Apartment, Landlord, Tenancy
from participants.models import Participant, ParticipantStatus
from participants.personnummer import generate
from reports.cohort import cohort_import as _cohort_import

pytestmark = pytest.mark.django_db

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")
HEADER = "participant_id,personnummer,move_in,move_out,exit_reason,landlord,contract_type,takeover"


def cohort_import(*, text: str, **kwargs):
    """The import of a UTF-8 CSV written as text."""
    return _cohort_import(data=text.encode(), filename="cohort.csv", **kwargs)


def counts():
    """Rows, change-history rows and access-log rows of everything an import touches."""
    return (
        Participant.objects.count(),
        Tenancy.objects.count(),
        Landlord.objects.count(),
        Apartment.objects.count(),
        Participant.history.count(),
        Tenancy.history.count(),
        Landlord.history.count(),
        Apartment.history.count(),
        AccessLogEntry.objects.count(),
    )


def test_import_creates_participants_tenancies_landlords_and_apartments():
    before_landlords = Landlord.objects.count()
    result = cohort_import(text=HELSINGBORG.read_text())
    assert result.ok and result.committed
    assert Participant.objects.filter(external_ref__startswith="HBG-").count() == 19
    assert Tenancy.objects.count() == 20
    assert Landlord.objects.count() == before_landlords + 1
    # Without an address, each tenancy has its own apartment named after the reference.
    assert Apartment.objects.filter(address="HBG-07 (2012-01-31)").exists()
    # Every row went through save(): history exists.
    assert Tenancy.history.count() == 20


def test_importing_the_same_file_again_changes_nothing():
    cohort_import(text=HELSINGBORG.read_text())
    before = counts()
    assert AccessLogEntry.objects.count() > 0  # the first import was logged
    result = cohort_import(text=HELSINGBORG.read_text())
    assert result.ok
    assert result.changes == 0
    assert result.tenancies_unchanged == 20
    assert counts() == before


def test_a_corrected_file_updates_the_changed_tenancy_only():
    cohort_import(text=HELSINGBORG.read_text())
    changed = HELSINGBORG.read_text().replace(
        "HBG-02,,2010-05-17,,,", "HBG-02,,2010-05-17,2014-01-01,moved_on,"
    )
    result = cohort_import(text=changed)
    assert result.ok
    assert result.tenancies_updated == 1
    assert result.participants_updated == 1  # now exited
    assert Tenancy.objects.get(participant__external_ref="HBG-02").exit_reason == "moved_on"


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported_by_line():
    lines = HELSINGBORG.read_text().splitlines()
    lines[2] = lines[2].replace("2010-05-17", "17/05/2010")  # line 3
    lines[5] = lines[5].replace("social", "tredjehand")  # line 6
    lines[10] = lines[10].replace("deceased", "gone")  # line 11
    lines.append("HBG-20,,2013-01-01,2012-01-01,evicted,X,first_hand,")  # line 22
    before = counts()
    result = cohort_import(text="\n".join(lines) + "\n")
    assert not result.ok and not result.committed
    assert counts() == before
    bad_lines = sorted({e.line for e in result.errors})
    assert bad_lines == [3, 6, 11, 22]
    messages = {e.line: e.message for e in result.errors}
    assert "17/05/2010" in messages[3]
    assert "tredjehand" in messages[6]
    assert "gone" in messages[11]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("P1,,2020-01-01,,evicted,X,first_hand,", "move_out"),
        ("P1,,2020-01-01,2021-01-01,,X,first_hand,", "exit_reason"),
        ("P1,,2020-01-01,,,X,first_hand,2020-06-01", "socialt"),
        ("P1,,2020-01-01,,,X,social,2019-06-01", "takeover"),
        ("P1,,2020-01-01,,,,social,", "landlord"),
        (",,2020-01-01,,,X,social,", "participant_id"),
        ("P1,19850709-9806,2020-01-01,,,X,social,", "personnummer"),
        ("P1,,2020-1-1,,,X,social,", "2020-1-1"),
    ],
)
def test_each_kind_of_bad_row_is_refused_with_its_reason(row, fragment):
    result = cohort_import(text=f"{HEADER}\n{row}\n")
    assert [e.line for e in result.errors] == [2] * len(result.errors)
    assert result.errors
    assert fragment in " ".join(e.message for e in result.errors)
    assert not Tenancy.objects.exists()


def test_overlapping_tenancies_of_one_person_are_refused():
    text = f"{HEADER}\nP1,,2020-01-01,,,X,social,\nP1,,2021-01-01,,,X,social,\n"
    result = cohort_import(text=text)
    assert [e.line for e in result.errors] == [3]


def test_missing_columns_are_reported_on_line_1():
    result = cohort_import(text="participant_id,move_in\nP1,2020-01-01\n")
    assert result.errors[0].line == 1
    assert "landlord" in result.errors[0].message


def test_personnummer_is_stored_normalised_and_checked_across_rows():
    number = generate(random.Random(8))  # fictional, valid check digit
    text = f"{HEADER}\nP1,{number},2020-01-01,,,X,social,\n"
    assert cohort_import(text=text).ok
    assert Participant.objects.get(external_ref="P1").personnummer == number
    clash = f"{HEADER}\nP2,{number},2020-01-01,,,X,social,\n"
    result = cohort_import(text=clash)
    assert not result.ok


def test_import_cohort_command_reports_errors_and_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nP1,,2020-01-01,,,X,tredjehand,\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_cohort", str(bad))
    assert "2" in capsys.readouterr().err
    assert not Tenancy.objects.exists()


def test_a_utf8_bom_and_an_address_column_are_accepted(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "\ufeffparticipant_id,move_in,move_out,exit_reason,landlord,contract_type,takeover,address\n"
        "A1,2020-01-01,2021-01-01,other_hf_apartment,Gavlegårdarna,first_hand,,Storgatan 1\n"
        "A1,2021-01-01,,,Gavlegårdarna,first_hand,,Storgatan 2\n"
        "A2,2021-02-01,,,Gavlegårdarna,first_hand,,Storgatan 1\n",
        encoding="utf-8",
    )
    call_command("import_cohort", str(path))
    assert Apartment.objects.filter(address="Storgatan 1").count() == 1
    assert Tenancy.objects.filter(apartment__address="Storgatan 1").count() == 2


def test_a_clash_with_existing_tenancies_is_reported_by_line_and_nothing_is_written():
    """Rows that only the database can refuse (the apartment is let to someone
    already there) roll back the rows before them too."""
    header = f"{HEADER},address"
    assert cohort_import(text=f"{header}\nOLD,,2020-01-01,,,X,social,,Storgatan 1\n").ok
    before = counts()
    text = (
        f"{header}\n"
        "NEW1,,2021-01-01,,,X,social,,Storgatan 2\n"
        "NEW2,,2021-01-01,,,X,social,,Storgatan 1\n"
        "OLD,,2019-06-01,2020-06-01,evicted,X,social,,Storgatan 3\n"
    )
    result = cohort_import(text=text)
    assert not result.committed
    assert [e.line for e in result.errors] == [3, 4]
    assert "redan uthyrd" in result.errors[0].message
    assert "redan ett boende" in result.errors[1].message
    assert counts() == before
    assert not Participant.objects.filter(external_ref="NEW1").exists()


def test_an_imported_person_whose_last_tenancy_ended_is_closed_on_its_move_out_day(unit_manager):
    """Culling counts from ``closed_on``: an imported case must carry it, set
    by the participants' own service and named to the importing user."""
    text = (
        f"{HEADER}\n"
        "P1,,2012-01-01,2014-01-01,other_hf_apartment,X,social,\n"
        "P1,,2014-01-01,2016-03-31,evicted,X,social,\n"
        "P2,,2013-01-01,,,X,social,\n"
    )
    assert cohort_import(text=text, acting_user=unit_manager).ok
    closed = Participant.objects.get(external_ref="P1")
    assert (closed.status, closed.closed_on) == (ParticipantStatus.EXITED, date(2016, 3, 31))
    latest = closed.history.order_by("-history_id").first()
    assert (latest.status, latest.closed_on) == (ParticipantStatus.EXITED, date(2016, 3, 31))
    assert latest.history_user == unit_manager
    housed = Participant.objects.get(external_ref="P2")
    assert (housed.status, housed.closed_on) == (ParticipantStatus.HOUSED, None)


def test_a_corrected_file_closes_and_reopens_a_case_with_its_closing_day(unit_manager):
    cohort_import(text=HELSINGBORG.read_text(), acting_user=unit_manager)
    person = Participant.objects.get(external_ref="HBG-02")
    assert (person.status, person.closed_on) == (ParticipantStatus.HOUSED, None)
    ended = HELSINGBORG.read_text().replace(
        "HBG-02,,2010-05-17,,,", "HBG-02,,2010-05-17,2014-01-01,moved_on,"
    )
    assert cohort_import(text=ended, acting_user=unit_manager).ok
    person.refresh_from_db()
    assert (person.status, person.closed_on) == (ParticipantStatus.EXITED, date(2014, 1, 1))
    assert cohort_import(text=HELSINGBORG.read_text(), acting_user=unit_manager).ok
    person.refresh_from_db()
    assert (person.status, person.closed_on) == (ParticipantStatus.HOUSED, None)


@pytest.mark.parametrize(
    ("rows", "rule"),
    [
        # Two people in one apartment at once.
        (
            "A,,2020-01-01,2021-01-01,evicted,X,social,,Storgatan 1\n"
            "B,,2020-12-31,,,X,social,,Storgatan 1\n",
            "apartment_overlap",
        ),
        # One person in two apartments at once.
        (
            "A,,2020-01-01,,,X,social,,Storgatan 1\nA,,2020-06-01,,,X,social,,Storgatan 2\n",
            "participant_overlap",
        ),
    ],
)
def test_overlapping_rows_are_refused_by_the_housing_rule_and_its_message(rows, rule):
    """The import has no overlap rule of its own: the tenancy's validation
    (the one ``tenancy_assign`` goes through) refuses the later row."""
    with translation.override("en"):
        result = cohort_import(text=f"{HEADER},address\n{rows}")
        expected = str(Tenancy.error_messages[rule]).split(":")[0]
    assert [e.line for e in result.errors] == [3]
    assert result.errors[0].message.startswith(expected)
    assert not Tenancy.objects.exists()


def test_a_preview_writes_nothing(unit_manager):
    before = counts()
    result = cohort_import(text=HELSINGBORG.read_text(), acting_user=unit_manager, commit=False)
    assert result.ok and not result.committed
    assert result.participants_created == 19 and result.tenancies_created == 20
    assert counts() == before


def test_a_bad_cell_and_an_overlap_are_reported_together():
    text = (
        f"{HEADER},address\n"
        "A,,2020-01-01,,,X,social,,Storgatan 1\n"
        "B,,2020-06-01,,,X,social,,Storgatan 1\n"
        "C,,2020-13-01,,,X,social,,Storgatan 2\n"
    )
    result = cohort_import(text=text)
    assert [e.line for e in result.errors] == [3, 4]
    assert not Participant.objects.exists()


def test_a_change_to_a_restricted_person_is_refused_on_its_line(unit_manager):
    from participants.restriction import processing_restrict

    cohort_import(text=HELSINGBORG.read_text())
    person = Participant.objects.get(external_ref="HBG-02")
    processing_restrict(participant=person, reason="Begäran om rättelse.", acting_user=unit_manager)
    text = HELSINGBORG.read_text()
    changed = text.replace("HBG-02,,2010-05-17,,,", "HBG-02,,2010-05-17,2014-01-01,moved_on,")
    line = next(n for n, row in enumerate(changed.splitlines(), 1) if row.startswith("HBG-02,"))
    before = counts()
    result = cohort_import(text=changed)
    assert not result.committed
    assert [e.line for e in result.errors] == [line]
    assert "begränsad" in str(result.errors[0]) or "restricted" in str(result.errors[0])
    assert counts() == before
