"""The cohort import's set-based write (reports/cohort_write.py): change
history and access log for every record, the housing rules for the whole
file at once, and a number of queries that does not grow with the file."""

import random
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from bostadforst.models import AccessLogEntry, StaleObjectError
from bostadforst.records import record_bulk_update
from housing.models import Apartment, Landlord, Tenancy
from participants.models import Participant, ParticipantStatus
from participants.personnummer import generate
from reports import cohort as cohort_module
from reports import cohort_write
from reports.cohort import cohort_import as _cohort_import
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

HEADER = "participant_id,personnummer,move_in,move_out,exit_reason,landlord,contract_type,takeover"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraints are PostgreSQL's"
)


def cohort_import(text: str, **kwargs):
    return _cohort_import(data=text.encode(), filename="kohort.csv", **kwargs)


def cohort(people: int, *, ended: bool = False, prefix: str = "P") -> str:
    """One tenancy each for ``people`` people (ended ones moved on), each in
    an apartment of its own, with a landlord named after ``prefix``."""
    end = "2019-06-30,moved_on" if ended else ","
    rows = [f"{prefix}{n:05d},,2015-01-01,{end},Bänkhem {prefix},social," for n in range(people)]
    return "\n".join([HEADER, *rows]) + "\n"


def changes_recorded():
    return (
        Participant.history.count(),
        Tenancy.history.count(),
        Apartment.history.count(),
        Landlord.history.count(),
        AccessLogEntry.objects.count(),
    )


def test_every_created_record_has_its_history_row_and_log_row_naming_the_importer(
    unit_manager,
):
    before = AccessLogEntry.objects.count()
    result = cohort_import(cohort(30), acting_user=unit_manager)
    assert result.committed
    assert (result.participants_created, result.tenancies_created) == (30, 30)
    assert (result.apartments_created, result.landlords_created) == (30, 1)
    for model in (Participant, Tenancy, Apartment):
        rows = model.history.filter(history_type="+")
        assert rows.count() == 30
        assert set(rows.values_list("history_user", flat=True)) == {unit_manager.pk}
        assert len(set(rows.values_list("history_change_reason", flat=True))) == 1
        assert rows.first().history_change_reason  # the import says why
    created = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CREATE, user=unit_manager)
    assert AccessLogEntry.objects.count() - before == created.count() == 30 * 3 + 1
    people = set(Participant.objects.values_list("pk", flat=True))
    assert (
        set(created.filter(model="participants.Participant").values_list("person_id", flat=True))
        == people
    )
    assert (
        set(created.filter(model="housing.Tenancy").values_list("person_id", flat=True)) == people
    )


def test_the_case_is_created_as_the_tenancies_give_it(unit_manager):
    cohort_import(cohort(3, ended=True), acting_user=unit_manager)
    person = Participant.objects.get(external_ref="P00001")
    assert (person.status, person.closed_on) == (ParticipantStatus.EXITED, date(2019, 6, 30))
    # One history row: created exited, not created and then closed.
    assert person.history.count() == 1


def test_a_corrected_file_writes_history_and_log_rows_for_what_changed_only(unit_manager):
    cohort_import(cohort(5), acting_user=unit_manager)
    before = changes_recorded()
    corrected = cohort(5).replace(
        "P00002,,2015-01-01,,,", "P00002,,2015-01-01,2019-06-30,moved_on,"
    )
    result = cohort_import(corrected, acting_user=unit_manager)
    assert (result.tenancies_updated, result.participants_updated, result.changes) == (1, 1, 2)
    after = changes_recorded()
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 0, 0, 2]
    tenancy = Tenancy.objects.get(participant__external_ref="P00002")
    latest = tenancy.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.move_out) == (
        "~",
        unit_manager,
        date(2019, 6, 30),
    )
    assert tenancy.version == 2  # the version check counted the save
    updated = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.UPDATE)
    assert set(updated.values_list("model", "person_id")) == {
        ("housing.Tenancy", tenancy.participant_id),
        ("participants.Participant", tenancy.participant_id),
    }


def test_the_same_file_again_writes_no_row_at_all(unit_manager):
    text = cohort(20, ended=True)
    cohort_import(text, acting_user=unit_manager)
    before = changes_recorded() + (Participant.objects.count(), Tenancy.objects.count())
    result = cohort_import(text, acting_user=unit_manager)
    assert result.committed and result.changes == 0 and result.tenancies_unchanged == 20
    assert changes_recorded() + (Participant.objects.count(), Tenancy.objects.count()) == before


def import_queries(people: int, prefix: str, user) -> tuple[int, int]:
    """The statements of a first import and of the same file again (each as
    a job runs it: the importing user read afresh)."""
    text = cohort(people, prefix=prefix)
    counts = []
    for _ in range(2):
        importer = type(user).objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as queries:
            assert cohort_import(text, acting_user=importer).committed
        counts.append(len(queries))
    return tuple(counts)


def test_the_number_of_queries_does_not_grow_with_the_file(unit_manager):
    assert import_queries(50, "S", unit_manager) == import_queries(500, "L", unit_manager)


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        # The apartment is let to someone already: the row of the file is refused.
        ("NEW,,2021-01-01,,,X,social,,Storgatan 1\n", 2, "The apartment is already let"),
        # The participant held lives elsewhere then.
        ("OLD,,2019-06-01,2020-06-01,evicted,X,social,,Storgatan 3\n", 2, "already has a tenancy"),
        # Two rows of the file: the later-starting one is refused.
        (
            "A,,2022-03-01,,,X,social,,Storgatan 2\n"
            "B,,2022-01-01,2022-04-01,evicted,X,social,,Storgatan 2\n",
            2,
            "The apartment is already let",
        ),
    ],
)
def test_overlaps_with_rows_held_and_within_the_file_are_refused_at_their_line(
    rows, line, fragment
):
    header = f"{HEADER},address"
    assert cohort_import(f"{header}\nOLD,,2020-01-01,,,X,social,,Storgatan 1\n").committed
    before = changes_recorded()
    with translation.override("en"):
        result = cohort_import(f"{header}\n{rows}")
    assert not result.committed
    assert [e.line for e in result.errors] == [line]
    assert fragment in result.errors[0].message
    assert changes_recorded() == before


def test_the_overlap_message_names_the_tenancy_held_and_its_tenant():
    header = f"{HEADER},address"
    cohort_import(f"{header}\nOLD,,2020-01-01,,,Bänkhem,social,,Storgatan 1\n")
    with translation.override("en"):
        result = cohort_import(f"{header}\nNEW,,2021-01-01,,,Bänkhem,social,,Storgatan 1\n")
    assert "Storgatan 1, Bänkhem 2020-01-01–…" in result.errors[0].message
    assert "tenant: OLD" in result.errors[0].message


def test_a_case_the_file_would_house_against_the_rule_is_refused_at_its_line():
    """Only an approved (or, reopened, an exited) participant is housed, as
    ``participant_mark_housed`` says."""
    ParticipantFactory(external_ref="REF1", status=ParticipantStatus.REFERRED)
    result = cohort_import(f"{HEADER}\nREF1,,2020-01-01,,,X,social,\n")
    assert [e.line for e in result.errors] == [2]
    assert not Tenancy.objects.exists()


def test_progress_is_reported_in_rows_up_to_the_whole_file(unit_manager):
    heard = []
    _cohort_import(
        data=cohort(40).encode(),
        filename="kohort.csv",
        acting_user=unit_manager,
        progress=lambda stage, done, total: heard.append((stage, done, total)),
    )
    written = [(done, total) for stage, done, total in heard if stage == "write"]
    assert written[-1] == (40, 40)
    assert [done for done, _total in written] == sorted(done for done, _total in written)


def test_a_stale_record_is_not_overwritten_by_a_bulk_update(unit_manager):
    tenancy = TenancyFactory(move_in=date(2020, 1, 1))
    read = Tenancy.objects.get(pk=tenancy.pk)
    Tenancy.objects.filter(pk=tenancy.pk).update(version=5)  # someone else saved meanwhile
    read.contract_type = "first_hand"
    history = Tenancy.history.count()
    with pytest.raises(StaleObjectError):
        record_bulk_update(Tenancy, [read], ["contract_type"], acting_user=unit_manager)
    assert Tenancy.history.count() == history
    assert Tenancy.objects.get(pk=tenancy.pk).version == 5


@postgres_only
def test_a_clash_only_the_database_sees_is_a_line_numbered_error(monkeypatch):
    """A tenancy saved by someone else between the check and the write is
    refused by the exclusion constraint: the import plans once more, and a
    clash still unseen (the check switched off here) is reported at its line,
    never as a server error."""
    header = f"{HEADER},address"
    cohort_import(f"{header}\nOLD,,2020-01-01,,,X,social,,Storgatan 1\n")
    before = changes_recorded()
    monkeypatch.setattr(cohort_write._Occupancy, "clash", lambda self, move_in, move_out: None)
    result = cohort_import(
        f"{header}\n"
        "NEW1,,2021-01-01,,,X,social,,Storgatan 2\n"
        "NEW2,,2021-01-01,,,X,social,,Storgatan 1\n"
    )
    assert not result.committed
    assert [e.line for e in result.errors] == [3]
    assert changes_recorded() == before


# Batches of people (``reports.cohort._Stage``): the rows are staged in a
# temporary table and checked, planned and written a batch of people at a time.

BATCHED = (
    f"{HEADER},address\n"
    # Storgatan 9 is let to people of different batches, one after the other.
    "A01,,2015-01-01,2016-01-01,moved_on,Bänkhem,social,,Storgatan 9\n"
    "A02,,2016-02-01,2017-01-01,evicted,Bänkhem,first_hand,,Storgatan 9\n"
    "A03,,2017-02-01,,,Bänkhem,social,2018-01-01,Storgatan 9\n"
    "A04,,2015-01-01,2016-01-01,moved_on,Bostadsbolaget,social,,\n"
    "A04,,2016-03-01,,,Bostadsbolaget,social,,\n"
    "A05,,2015-05-01,,,Bostadsbolaget,first_hand,,Lillgatan 1\n"
    "A06,,2015-05-01,2019-01-01,deceased,Bänkhem,social,,Lillgatan 2\n"
    "A07,,2020-01-01,,,Bänkhem,social,,Lillgatan 2\n"
)


def counts(result) -> tuple:
    return (
        result.rows,
        result.participants_created,
        result.participants_updated,
        result.landlords_created,
        result.apartments_created,
        result.tenancies_created,
        result.tenancies_updated,
        result.tenancies_unchanged,
    )


def test_a_file_of_several_batches_imports_what_one_batch_would(monkeypatch, unit_manager):
    one = cohort_import(BATCHED, commit=False)
    assert one.ok and not Tenancy.objects.exists()
    monkeypatch.setattr(cohort_module, "PEOPLE_PER_BATCH", 2)
    batched = cohort_import(BATCHED, acting_user=unit_manager)
    assert batched.committed
    assert counts(batched) == counts(one) == (8, 7, 0, 2, 5, 8, 0, 0)
    # One apartment for the address let by three batches, one landlord each.
    assert Apartment.objects.filter(address="Storgatan 9").count() == 1
    assert Landlord.objects.filter(name__in=["Bänkhem", "Bostadsbolaget"]).count() == 2
    assert Participant.objects.get(external_ref="A06").status == ParticipantStatus.EXITED
    again = cohort_import(BATCHED, acting_user=unit_manager)
    assert again.committed and again.changes == 0 and again.tenancies_unchanged == 8


NUMBER = generate(random.Random(7))


@pytest.mark.parametrize(
    ("old", "new", "lines", "fragment"),
    [
        # A row the reading refuses, in the last batch.
        ("A07,,2020-01-01", "A07,,2020-13-01", [9], "YYYY-MM-DD"),
        # A clash between the rows of two batches: found in the later batch.
        ("A02,,2016-02-01", "A02,,2015-12-01", [3], "already let"),
        # One personnummer for people of different batches: their rows.
        ("A0", f"A0{NUMBER}", None, "several"),
    ],
)
def test_an_error_in_any_batch_writes_nothing(monkeypatch, old, new, lines, fragment):
    text = BATCHED.replace(old, new)
    if lines is None:  # the number given for A01 and A07
        text = BATCHED.replace("A01,,", f"A01,{NUMBER},").replace("A07,,", f"A07,{NUMBER},")
        lines = [2, 9]
    monkeypatch.setattr(cohort_module, "PEOPLE_PER_BATCH", 2)
    before = changes_recorded()
    with translation.override("en"):
        result = cohort_import(text)
    assert not result.committed
    assert [e.line for e in result.errors] == lines
    assert all(fragment in e.message for e in result.errors)
    assert changes_recorded() == before
    assert not Tenancy.objects.exists()


def test_the_staging_table_goes_with_the_import(monkeypatch):
    """Dropped when the import commits and rolled back with a preview or a
    refused file, so the next import on the connection makes it afresh."""
    cohort_import(BATCHED, commit=False)
    cohort_import(BATCHED.replace("A07,,2020-01-01", "A07,,2020-13-01"))
    assert cohort_import(BATCHED).committed
    tables = connection.introspection.table_names(include_views=False)
    assert cohort_module._Stage.TABLE not in tables
    with connection.cursor() as cursor, pytest.raises(DatabaseError), transaction.atomic():
        cursor.execute(f"SELECT 1 FROM {cohort_module._Stage.TABLE}")


def test_an_import_failing_with_its_session_shows_its_own_error():
    """Leaving the staging table on an error with the table gone already (a
    lost session took it) raises that error, not the failed DROP's."""
    stage = cohort_module._Stage
    with pytest.raises(ZeroDivisionError), stage():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {stage.TABLE}")
        1 / 0  # noqa: B018


def test_a_staging_table_that_cannot_be_dropped_is_an_error_when_nothing_else_failed():
    stage = cohort_module._Stage
    with pytest.raises(DatabaseError), stage(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {stage.TABLE}")
