"""The write side of the cohort import: a whole checked file in a few statements.

``cohort_write(rows, result, acting_user=…, progress=…)`` runs inside
``reports.cohort.cohort_import``'s transaction with a batch of people's rows
that passed ``parse`` (``cohort.PEOPLE_PER_BATCH`` people with all their
rows; what earlier batches wrote is held by then). It

1. loads what the database holds for the file, in a few queries whatever the
   file's size (participants by reference and by personnummer, landlords by
   name, apartments by address, and every tenancy of those participants and
   apartments);
2. works out in memory what to create, what to update and what is unchanged,
   and checks the whole set: each person's personnummer; each tenancy's own
   rules (``Tenancy.clean_row``) and the rule against double letting for the
   file's rows together with the rows held (``housing.models.periods_overlap``,
   with the messages of ``Tenancy.clean``); each person's case from their
   tenancies (``participant_state_from_tenancies``, refused as
   ``participant_mark_housed`` refuses it);
3. when nothing is wrong, writes through the write path's bulk functions
   (``bostadforst.records.record_bulk_create`` / ``record_bulk_update``):
   change history naming the importing user and the reason, the version check
   on every update, and an access-log row for every record written.

Every problem is reported with its line, and then nothing is written. A
tenancy is identified by (reference, move-in day): an unchanged row writes
nothing, so the same file again changes nothing, and a corrected file updates
what changed.

The check runs in ``move_in`` order over the batch: a row is checked against
the tenancies held that the file leaves alone and the file's rows accepted
before it, so a clash between two rows of a batch is reported at the one
that starts later, and a clash with a row held (or written by an earlier
batch) at the row of the file.

Memory: the plan keeps the batch's rows as ``cohort.CohortRows`` (a few
numbers a row in ``array`` columns) and refers to a row by its index there;
per person it keeps a ``_Person`` (the participant held, the case, their
latest tenancy). The overlap check keeps, per person and per apartment
given by address, the tenancies held and only the latest row accepted (the
rows go in move-in order, so an earlier one can no longer clash), never a
model instance per row. The records are built, written and dropped
``WRITE_CHUNK`` at a time, so the write's own memory (instances, prepared
values, history and access-log rows) is the same for any batch.

On PostgreSQL the exclusion constraints still guard against a save made
meanwhile by someone else (the check reads before it writes): the write is
then planned once more from what is held now, which names the clash and its
line like any other.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from bostadforst.models import StaleObjectError
from bostadforst.records import ProcessingRestrictedError, record_bulk_create, record_bulk_update
from bostadforst.versioning import stale_error
from housing.models import Apartment, Landlord, Tenancy, periods_overlap
from housing.services import IMPORTED_TENANCY_FIELDS, participant_state_from_tenancies
from participants.models import Participant, ParticipantStatus
from participants.services import participant_housing_refusal

if TYPE_CHECKING:
    from .cohort import CohortRows, ImportResult, RowError

# Ids and keys per ``IN (…)`` list: well below SQLite's 32,766 variables, and
# few statements for PostgreSQL.
LOOKUP_CHUNK = 5000
# Records per UPDATE batch of ``record_bulk_update``.
WRITE_BATCH = 2000
# Records built and written at a time (a call of the bulk functions, and a
# progress report): their instances, prepared values and history rows live
# for one chunk only, which bounds the write's memory whatever the file.
WRITE_CHUNK = 2000

PARTICIPANT_FIELDS = ("personnummer", "status", "closed_on")
# ``_Plan.held_ids`` of a row whose tenancy is held as the row gives it.
UNCHANGED = -1


def _reason() -> str:
    """Why the records changed, on their history rows."""
    return pgettext("history change reason", "Cohort import")


def cohort_write(
    rows: CohortRows,
    result: ImportResult,
    *,
    acting_user,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> None:
    """Write the checked ``rows`` (see the module docstring), or add to
    ``result.errors`` every row that cannot be written and write nothing."""
    for attempt in (1, 2):
        plan = None  # the first attempt's plan goes before the second is made
        plan = _Plan(rows)
        if plan.errors:
            result.errors.extend(plan.errors)
            break
        if result.errors:
            # Rows ``parse`` refused: the import is rolled back whatever the
            # rest gives, and the check above has said all a write would.
            break
        try:
            with transaction.atomic():
                plan.write(acting_user, progress)
        except ProcessingRestrictedError as exc:
            result.errors.append(plan.error_for(exc))
        except (IntegrityError, StaleObjectError) as exc:
            if attempt == 1:
                # Someone saved a tenancy, person or landlord in between:
                # plan again from what is held now, which then names it.
                continue
            result.errors.append(plan.error_for(exc))
        break
    plan.count_into(result)


def _chunks(items: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    items = items if isinstance(items, Sequence) else list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _row_error(line: int, message: str) -> RowError:
    from .cohort import RowError

    return RowError(line, message)


@dataclass(slots=True, eq=False)
class _Period:
    """A tenancy in the overlap check: one held (``held``: its id) or a row
    of the file (``row``: its index in ``CohortRows``)."""

    move_in: date
    move_out: date | None
    exit_reason: str
    held: int | None = None
    row: int | None = None


class _Occupancy:
    """The periods of one apartment or one person that a row may clash with.

    The periods kept never overlap one another (the rows held met the rule,
    and a row of the file joins only if it clashes with none), so the only
    one that can clash with a new period is the latest that starts before it
    ends: one ``bisect`` instead of a scan, and it is also the one a message
    names (as ``housing.models.latest_overlap`` picks it).

    The rows of the file are checked in move-in order, so of theirs only
    the latest accepted (``last``) is kept: an earlier one ends before it
    starts, so before any row still to come starts, and it could neither
    clash nor be the latest that starts before a row's end and clashes. The
    tenancies held (``add_held``) are kept sorted, as they start anywhere.
    A person's latest row accepted is kept by the plan (``_Plan.last``), so only
    people with tenancies held have an occupancy of their own.
    """

    __slots__ = ("last", "periods", "starts")

    def __init__(self) -> None:
        self.starts: list[date] | None = None
        self.periods: list[_Period] | None = None
        self.last: _Period | None = None

    def clash(self, move_in: date, move_out: date | None) -> _Period | None:
        latest = None
        if self.starts:
            index = len(self.starts) if move_out is None else bisect_left(self.starts, move_out)
            latest = self.periods[index - 1] if index else None
        last = self.last
        if (
            last is not None
            and (move_out is None or last.move_in < move_out)
            and (latest is None or latest.move_in < last.move_in)
        ):
            latest = last
        if latest is not None and periods_overlap(
            move_in, move_out, latest.move_in, latest.move_out
        ):
            return latest
        return None

    def add(self, period: _Period) -> None:
        """A row of the file accepted (in move-in order)."""
        self.last = period

    def add_held(self, period: _Period) -> None:
        if self.starts is None:
            self.starts, self.periods = [], []
        index = bisect_left(self.starts, period.move_in)
        self.starts.insert(index, period.move_in)
        self.periods.insert(index, period)


@dataclass(slots=True, eq=False)
class _Held:
    """What the plan needs of a participant held."""

    pk: int
    personnummer: str | None
    status: str
    closed_on: date | None
    version: int


@dataclass(slots=True, eq=False)
class _Person:
    """A reference of the file (``index``: its person in ``CohortRows``) and
    its participant, held or new."""

    ref: str
    index: int
    personnummer: str | None = None
    held: _Held | None = None  # the participant held
    new: bool = False  # a participant to create, with ``status`` and ``closed_on``
    status: str = ParticipantStatus.APPROVED
    closed_on: date | None = None
    pk: int | None = None  # the new participant's, once written
    refused: bool = False  # the participant cannot be written: its rows are not checked
    failed: bool = False  # some row of theirs has an error: the case is not derived
    latest: _Period | None = None  # their latest tenancy held (``_latest``: or accepted)

    @property
    def participant_id(self) -> int | None:
        return self.held.pk if self.held is not None else self.pk

    def participant(self) -> Participant:
        """The new participant's record (``_cases`` set its case)."""
        return Participant(
            external_ref=self.ref,
            personnummer=self.personnummer,
            status=self.status,
            closed_on=self.closed_on,
        )

    def saw(self, period: _Period) -> None:
        if self.latest is None or self.latest.move_in < period.move_in:
            self.latest = period


class _Plan:
    """What writing ``rows`` creates and changes, or the errors that stop it.

    It holds keys, not records: new participants as their ``_Person``, new
    and changed tenancies as their rows' indices in ``CohortRows`` (``array``
    columns), apartments by (landlord, address); ``write`` builds the
    records a chunk at a time.
    """

    def __init__(self, rows: CohortRows) -> None:
        self.rows = rows
        self.errors: list[RowError] = []
        # By the person's index in ``rows``; None for a person without rows
        # left (``parse`` refused them all).
        # (The index is the one ``rows.person_of`` holds: one int object.)
        self.people: list[_Person | None] = [
            _Person(ref, person, rows.numbers[person])
            if rows.starts[person + 1] > rows.starts[person]
            else None
            for ref, person in rows.person_of.items()
        ]
        # Each person's latest row accepted (in move-in order), -1 for none:
        # set by ``_tenancies``.
        self.last = array("i", [-1]) * len(self.people)
        self.new_landlords: list[Landlord] = []
        # (landlord, address) -> the held apartment's id, or None for a new
        # one given by address (created before the tenancies). A row without
        # an address whose apartment is not held gets an apartment of its own,
        # created with its tenancy (``own_apartments`` of them).
        self.apartments: dict[tuple[str, str], int | None] = {}
        self.new_apartments: list[tuple[str, str]] = []
        self.own_apartments = 0
        self.new_people: list[_Person] = []
        self.changed_people: list[tuple[_Person, str | None, date | None]] = []
        # Rows by index, in move-in order: new tenancies, and changed ones
        # with (tenancy id, version read).
        self.new_rows = array("I")
        self.changed_rows = array("I")
        self.changed_ids = array("q")
        self.changed_versions = array("q")
        # What each row's tenancy is held as (``_tenancies``): 0 none,
        # ``UNCHANGED``, or the id of the tenancy the row changes.
        self.held_ids = array("q")
        self.held_versions = array("q")
        self.unchanged_tenancies = 0
        # id(record) -> its line, for the chunk being written (a refused write).
        self.line_of: dict[int, int] = {}
        self.writing: list[tuple[Tenancy, int]] = []
        self._participants()
        self._apartments()
        self._tenancies()
        self._cases()
        self.errors.sort(key=lambda e: e.line)

    def _people(self) -> Iterator[_Person]:
        return (person for person in self.people if person is not None)

    def _line(self, person: _Person) -> int:
        """The line of the person's first tenancy in the file."""
        rows = self.rows
        return rows.line[rows.order[rows.starts[person.index]]]

    def _person(self, i: int) -> _Person:
        """The person of row ``i``."""
        return self.people[self.rows.person[i]]

    def _error(self, line: int, message: str) -> None:
        self.errors.append(_row_error(line, message))

    def _valid(self, record, line: int) -> bool:
        """The record's own rules: the fields the file gives (the others hold
        the model's defaults), and its model's one-row rules (``clean_row``
        where the model's ``clean`` also queries for other rows). Uniqueness
        and overlaps are checked for the whole set instead."""
        try:
            record.clean_fields(exclude=_NOT_FROM_THE_FILE[type(record)])
            getattr(record, "clean_row", record.clean)()
        except ValidationError as exc:
            self._error(line, _messages(exc))
            return False
        return True

    # --- Participants ---------------------------------------------------------------

    def _participants(self) -> None:
        """The participant of each reference, held or new (approved, as
        ``participant_create_imported`` makes them; ``_cases`` then sets the
        case from the tenancies), and each personnummer checked against the
        people held."""
        columns = ("pk", "external_ref", "personnummer", "status", "closed_on", "version")
        statuses: dict[str, str] = {}  # one string per status, not one per person
        person_of = self.rows.person_of
        for chunk in _chunks([person.ref for person in self._people()]):
            for pk, ref, number, status, closed_on, version in Participant._base_manager.filter(
                external_ref__in=chunk
            ).values_list(*columns):
                person = self.people[person_of[ref]]
                if number is not None and number == person.personnummer:
                    number = person.personnummer
                status = statuses.setdefault(status, status)
                person.held = _Held(pk, number, status, closed_on, version)
        numbers = {p.personnummer for p in self._people() if p.personnummer}
        holders: dict[str, str | None] = {}
        for chunk in _chunks(numbers):
            holders.update(
                Participant._base_manager.filter(personnummer__in=chunk).values_list(
                    "personnummer", "external_ref"
                )
            )
        del numbers
        # One record checks every new participant: building one per person
        # would cost more than the check.
        checker = Participant(status=ParticipantStatus.APPROVED)
        for person in self._people():
            number, held = person.personnummer, person.held
            if held is not None and number and held.personnummer not in (None, number):
                message = _("%(ref)s already has another personnummer.") % {"ref": person.ref}
                self._error(self._line(person), message)
                person.refused = True
            elif number and number in holders and holders[number] != person.ref:
                message = _("The personnummer belongs to a participant with another reference.")
                self._error(self._line(person), message)
                person.refused = True
            elif held is None:
                checker.external_ref, checker.personnummer = person.ref, number
                if self._valid(checker, self._line(person)):
                    person.new = True
                else:
                    person.refused = True

    def _cases(self) -> None:
        """Each person's case from their latest tenancy
        (``participant_state_from_tenancies``): a new participant is created
        with it, a held one is updated when it differs (refused as
        ``participant_mark_housed`` refuses it) or gets its personnummer."""
        changes: dict[int, tuple[_Person, str | None, date | None]] = {}
        for person in self._people():
            if person.refused:
                continue
            latest = self._latest(person)
            if person.new:
                if not person.failed and latest is not None:
                    person.status, person.closed_on = participant_state_from_tenancies(latest)
                self.new_people.append(person)
                continue
            held, status, closed_on = person.held, None, None
            if not person.failed and latest is not None:
                status, closed_on = participant_state_from_tenancies(latest)
                if held.status == ParticipantStatus.HOUSED == status or (
                    (held.status, held.closed_on) == (status, closed_on)
                ):
                    status = None  # the case already says so
            if status is not None or (person.personnummer and not held.personnummer):
                changes[held.pk] = (person, status, closed_on)
        for chunk in _chunks(changes):
            for participant in Participant._base_manager.filter(pk__in=chunk):
                person, status, closed_on = change = changes[participant.pk]
                if status == ParticipantStatus.HOUSED:
                    refusal = participant_housing_refusal(participant, reopen=True)
                    if refusal is not None:
                        self._error(self._line(person), _messages(refusal))
                        continue
                _change_case(participant, *change)
                if self._valid(participant, self._line(person)):
                    self.changed_people.append(change)

    # --- Landlords and apartments ---------------------------------------------------

    def _address(self, i: int) -> str:
        """Row ``i``'s apartment address: without one, an apartment of its
        own named after the reference and the move-in day."""
        rows = self.rows
        return rows.texts[rows.address[i]] or _own_address(rows.ref(i), rows.date(rows.move_in[i]))

    def _key(self, i: int) -> tuple[str, str]:
        """Row ``i``'s apartment in ``apartments``."""
        return (self.rows.texts[self.rows.landlord[i]], self._address(i))

    def _apartments(self) -> None:
        """Each row's apartment, held or new, and its landlord, held or new."""
        rows = self.rows
        names = {rows.texts[index] for index in set(rows.landlord)}
        self.landlords: dict[str, Landlord] = {}
        for chunk in _chunks(names):
            for landlord in Landlord._base_manager.filter(name__in=chunk):
                self.landlords[landlord.name] = landlord
        for name in sorted(names - set(self.landlords)):
            landlord = self.landlords[name] = Landlord(name=name)
            self.new_landlords.append(landlord)
        held_landlords = {lord.pk: lord.name for lord in self.landlords.values() if lord.pk}
        # The addresses looked up a chunk of rows at a time (rows without an
        # address: the name an earlier import of the file gave their
        # apartment), so that no set of every address is built.
        for chunk in _chunks(range(len(rows)) if held_landlords else ()):
            addresses = {self._address(i) for i in chunk}
            # Of two apartments with one address, the oldest is the one used.
            for pk, landlord_id, address in (
                Apartment._base_manager.filter(
                    landlord__in=list(held_landlords), address__in=addresses
                )
                .order_by("pk")
                .values_list("pk", "landlord_id", "address")
            ):
                self.apartments.setdefault((held_landlords[landlord_id], address), pk)
        for i in range(len(rows)):
            address = rows.texts[rows.address[i]]
            if not address:
                continue
            key = (rows.texts[rows.landlord[i]], address)
            if key not in self.apartments:
                self.apartments[key] = None
                self.new_apartments.append(key)
                self._valid(Apartment(address=address), rows.line[i])
        # A row without an address and no apartment held by its name gets one
        # of its own, named after its reference (checked, at most 50
        # characters) and move-in day: a valid address, so not checked again.
        self.own_apartments = sum(
            1
            for i in range(len(rows))
            if not rows.address[i] and self._key(i) not in self.apartments
        )

    # --- Tenancies ------------------------------------------------------------------

    def _held_tenancies(self, lookup: str, ids: Iterable[int]) -> Iterator[Any]:
        """The tenancies held whose ``lookup`` (participant or apartment) is
        one of ``ids``, as named rows, a chunk of ids at a time (a query's rows
        are held only while it is read)."""
        columns = ("pk", "version", "participant_id", "apartment_id", "move_in", "move_out")
        columns += ("contract_type", "exit_reason", "takeover")
        for chunk in _chunks(ids):
            yield from Tenancy._base_manager.filter(**{f"{lookup}__in": chunk}).values_list(
                *columns, named=True
            )

    def _row_on(self, person: _Person, move_in: date) -> int | None:
        """The person's row that starts on ``move_in`` (one at most: ``parse``
        refuses two)."""
        rows = self.rows
        own = rows.of(person.index)
        day = move_in.toordinal()
        index = bisect_left(own, day, key=rows.move_in.__getitem__)
        if index < len(own) and rows.move_in[own[index]] == day:
            return own[index]
        return None

    def _tenancies(self) -> None:
        """Each row's tenancy, new, changed or unchanged, checked on its own
        and, in move-in order, against the tenancies held that the file leaves
        as they are and the rows accepted before it.

        The tenancies held are read twice, as a stream: once those of the
        file's people, to find each row's tenancy (its reference and move-in
        day) and each person's latest; then, only when some row is new or
        changed, those of the people and apartments such rows touch, for the
        overlap check. So a file imported again holds no record of its own.
        """
        rows = self.rows
        person_of = {p.held.pk: p for p in self._people() if p.held is not None}
        # A plan made again starts afresh.
        self.held_ids = array("q", bytes(8 * len(rows)))
        self.held_versions = array("q", bytes(8 * len(rows)))
        for tenancy in self._held_tenancies("participant_id", person_of):
            person = person_of[tenancy.participant_id]
            i = None if person.refused else self._row_on(person, tenancy.move_in)
            if i is not None:
                if tenancy.apartment_id == self.apartments.get(self._key(i)) and all(
                    getattr(tenancy, name) == rows.value(i, name) for name in _ROW_FIELDS
                ):
                    self.held_ids[i] = UNCHANGED  # held as it is: checked with the rows held
                else:
                    self.held_ids[i], self.held_versions[i] = tenancy.pk, tenancy.version
                    continue  # it takes the file's values: checked with its row
            person.saw(
                _Period(tenancy.move_in, tenancy.move_out, tenancy.exit_reason, held=tenancy.pk)
            )
        todo = array("I")
        for person in self._people():
            if person.refused:
                continue
            for i in rows.of(person.index):
                if self.held_ids[i] == UNCHANGED:
                    self.unchanged_tenancies += 1
                else:
                    todo.append(i)
        by_apartment: dict[Any, _Occupancy] = defaultdict(_Occupancy)
        by_person: dict[int, _Occupancy] = defaultdict(_Occupancy)  # with tenancies held
        if todo:
            # The periods the rows to write may clash with: the tenancies held
            # (but those the file changes) of their people and apartments.
            refs = {rows.person[i] for i in todo}
            apartments = {self.apartments.get(self._key(i)) for i in todo} - {None}
            changing = {self.held_ids[i] for i in todo if self.held_ids[i] > 0}
            people = [pk for pk, person in person_of.items() if person.index in refs]
            seen: set[int] = set()
            for lookup, ids in (("participant_id", people), ("apartment_id", apartments)):
                for tenancy in self._held_tenancies(lookup, ids):
                    if tenancy.pk in changing or tenancy.pk in seen:
                        continue
                    seen.add(tenancy.pk)
                    period = _Period(
                        tenancy.move_in, tenancy.move_out, tenancy.exit_reason, held=tenancy.pk
                    )
                    if tenancy.apartment_id in apartments:
                        by_apartment[tenancy.apartment_id].add_held(period)
                    person = person_of.get(tenancy.participant_id)
                    if person is not None and person.index in refs:
                        by_person[person.index].add_held(period)
            del seen, changing, refs, people
        clashes = []
        # In (move_in, line) order: rows are in line order, and a row's index
        # is below 2**20 (MAX_ROWS), so one int is the key.
        move_ins = rows.move_in
        todo = array("I", sorted(todo, key=lambda i: move_ins[i] << 20 | i))
        checker = Tenancy()  # one record checks every row (see ``_participants``)
        alone = _Occupancy()  # a person without tenancies held
        for i in todo:
            person = self._person(i)
            line = rows.line[i]
            for name in ("move_in", *_ROW_FIELDS):
                setattr(checker, name, rows.value(i, name))
            if not self._valid(checker, line):
                person.failed = True
                continue
            move_in, move_out = checker.move_in, checker.move_out
            # Held apartments by id, new ones given by address by their key; an
            # apartment of the row's own holds this tenancy alone.
            key = self._key(i)
            apartment_key = (self.apartments.get(key) or key) if key in self.apartments else None
            on_apartment = (
                by_apartment[apartment_key].clash(move_in, move_out)
                if apartment_key is not None
                else None
            )
            occupancy = by_person.get(person.index, alone)
            last = self.last[person.index]
            occupancy.last = None if last < 0 else self._period(last)
            on_person = occupancy.clash(move_in, move_out)
            if on_apartment or on_person:
                clashes.append((i, on_apartment, on_person))
                person.failed = True
                continue
            if apartment_key is not None:
                by_apartment[apartment_key].add(self._period(i))
            self.last[person.index] = i
            if self.held_ids[i] == 0:
                self.new_rows.append(i)
            else:
                self.changed_rows.append(i)
                self.changed_ids.append(self.held_ids[i])
                self.changed_versions.append(self.held_versions[i])
        del by_apartment, by_person, alone
        self._report(clashes)

    def _period(self, i: int) -> _Period:
        """Row ``i``'s tenancy in the overlap check."""
        rows = self.rows
        return _Period(
            rows.date(rows.move_in[i]),
            rows.date(rows.move_out[i]),
            rows.choices[rows.reason[i]],
            row=i,
        )

    def _latest(self, person: _Person) -> _Period | None:
        """The person's latest tenancy, held or accepted."""
        latest, last = person.latest, self.last[person.index]
        if last >= 0 and (latest is None or latest.move_in.toordinal() < self.rows.move_in[last]):
            return self._period(last)
        return latest

    def _record(self, i: int) -> Tenancy:
        """The tenancy of row ``i`` as a record with its apartment and
        participant, for a message naming it."""
        person = self._person(i)
        key = self._key(i)
        apartment = Apartment(
            pk=self.apartments.get(key), landlord=self.landlords[key[0]], address=key[1]
        )
        tenancy = self._checked_tenancy(i)
        tenancy.apartment = apartment
        if person.held is not None:
            tenancy.participant_id = person.held.pk
        else:
            tenancy.participant = person.participant()
        return tenancy

    def _checked_tenancy(self, i: int) -> Tenancy:
        """Row ``i``'s tenancy without its participant and apartment: what its
        own rules look at, and what is written once those are set."""
        return Tenancy(**{name: self.rows.value(i, name) for name in ("move_in", *_ROW_FIELDS)})

    def _report(self, clashes: list[tuple[int, _Period | None, _Period | None]]) -> None:
        """The overlap messages of ``Tenancy.clean``, naming the tenancy
        clashed with (those held read in one query, with their apartment and
        tenant)."""
        ids = [
            period.held
            for _row, *periods in clashes
            for period in periods
            if period is not None and period.row is None
        ]
        held = Tenancy._base_manager.select_related("participant", "apartment__landlord").in_bulk(
            ids
        )

        def record(period: _Period | None) -> Tenancy | None:
            if period is None:
                return None
            return self._record(period.row) if period.row is not None else held[period.held]

        for i, on_apartment, on_person in clashes:
            problems = Tenancy.overlap_problems(
                apartment_clash=record(on_apartment), participant_clash=record(on_person)
            )
            exc = ValidationError(
                {
                    name: [ValidationError(Tenancy.error_messages[code], code=code, params=params)]
                    for name, code, params in problems
                }
            )
            self._error(self.rows.line[i], _messages(exc))

    # --- Counting and writing -------------------------------------------------------

    def count_into(self, result: ImportResult) -> None:
        """Add what the plan creates and changes to ``result`` (the import's
        counts are the sums over its batches)."""
        result.participants_created += len(self.new_people)
        result.participants_updated += len(self.changed_people)
        result.landlords_created += len(self.new_landlords)
        result.apartments_created += len(self.new_apartments) + self.own_apartments
        result.tenancies_created += len(self.new_rows)
        result.tenancies_updated += len(self.changed_rows)
        result.tenancies_unchanged += self.unchanged_tenancies

    def write(self, acting_user, progress) -> None:
        """Create and update in an order the database's constraints accept
        at every statement: what a tenancy refers to first, then the changed
        tenancies (a move-out day moved earlier frees a period), then the new
        ones. Each step builds and writes ``WRITE_CHUNK`` records at a time.
        ``progress`` hears of it in rows of the file."""
        total = (
            len(self.new_landlords)
            + len(self.new_apartments)
            + self.own_apartments
            + len(self.new_people)
            + len(self.changed_people)
            + len(self.changed_rows)
            + len(self.new_rows)
        )
        rows, done = len(self.rows), 0

        def create(model, records: list) -> None:
            nonlocal done
            if not records:
                return
            # clean=False: ``_valid`` checked each record, and the set was
            # checked as a whole (full_clean would query per row).
            record_bulk_create(
                model, records, acting_user=acting_user, reason=_reason(), clean=False
            )
            done += len(records)

        def update(model, records: list, fields) -> None:
            nonlocal done
            record_bulk_update(
                model,
                records,
                fields,
                acting_user=acting_user,
                reason=_reason(),
                batch_size=WRITE_BATCH,
            )
            done += len(records)

        def report() -> None:
            if progress is not None and total:
                progress("write", rows * done // total, rows)

        create(Landlord, self.new_landlords)
        for keys in _chunks(self.new_apartments, WRITE_CHUNK):
            apartments = [Apartment(landlord=self.landlords[k[0]], address=k[1]) for k in keys]
            create(Apartment, apartments)
            for key, apartment in zip(keys, apartments, strict=True):
                self.apartments[key] = apartment.pk
            report()
        for people in _chunks(self.new_people, WRITE_CHUNK):
            participants = [person.participant() for person in people]
            create(Participant, participants)
            for person, participant in zip(people, participants, strict=True):
                person.pk = participant.pk
            report()
        for changes in _chunks(self.changed_people, WRITE_CHUNK):
            by_pk = {change[0].held.pk: change for change in changes}
            participants = list(Participant._base_manager.filter(pk__in=by_pk).order_by("pk"))
            self.line_of = {}
            for participant in participants:
                change = by_pk[participant.pk]
                _change_case(participant, *change)
                self.line_of[id(participant)] = self._line(change[0])
            update(Participant, participants, PARTICIPANT_FIELDS)
            report()
        # A changed tenancy is saved from its whole record, which its history
        # row copies (the note, when it was created).
        rows_ = self.rows
        for start in range(0, len(self.changed_rows), WRITE_CHUNK):
            indices = self.changed_rows[start : start + WRITE_CHUNK]
            ids = self.changed_ids[start : start + WRITE_CHUNK]
            versions = self.changed_versions[start : start + WRITE_CHUNK]
            own = self._own_apartments(indices, create)
            records = Tenancy._base_manager.in_bulk(list(ids))
            self.writing = []
            for i, pk, version in zip(indices, ids, versions, strict=True):  # in move-in order
                tenancy = records[pk]
                tenancy.version = version  # the version read
                tenancy.apartment_id = self._apartment_id(i, own)
                for name in _ROW_FIELDS:
                    setattr(tenancy, name, rows_.value(i, name))
                self.writing.append((tenancy, i))
            self.line_of = {id(tenancy): rows_.line[i] for tenancy, i in self.writing}
            update(Tenancy, [tenancy for tenancy, _i in self.writing], IMPORTED_TENANCY_FIELDS)
            report()
        for indices in _chunks(self.new_rows, WRITE_CHUNK):
            own = self._own_apartments(indices, create)
            self.writing = []
            for i in indices:
                tenancy = self._checked_tenancy(i)
                tenancy.apartment_id = self._apartment_id(i, own)
                tenancy.participant_id = self._person(i).participant_id
                self.writing.append((tenancy, i))
            self.line_of = {id(tenancy): rows_.line[i] for tenancy, i in self.writing}
            create(Tenancy, [tenancy for tenancy, _i in self.writing])
            report()
        self.writing, self.line_of = [], {}

    def _own_apartments(self, indices: Sequence[int], create) -> dict[int, int]:
        """Create the apartments of their own that the rows ``indices`` need
        (see ``_apartments``); returns their ids by row."""
        rows = self.rows
        own = [i for i in indices if not rows.address[i] and self._key(i) not in self.apartments]
        apartments = [
            Apartment(
                landlord=self.landlords[rows.texts[rows.landlord[i]]], address=self._address(i)
            )
            for i in own
        ]
        create(Apartment, apartments)
        return {i: apartment.pk for i, apartment in zip(own, apartments, strict=True)}

    def _apartment_id(self, i: int, own: dict[int, int]) -> int:
        pk = self.apartments.get(self._key(i))
        return pk if pk is not None else own[i]

    def error_for(self, exc: Exception) -> RowError:
        """The line and message of a write the database refused twice."""
        rows = self.rows
        line = rows.line[0]
        written = [*self.changed_rows, *self.new_rows]
        if isinstance(exc, ProcessingRestrictedError):
            # A person whose processing is restricted (GDPR art. 18): the row
            # of their first tenancy in the file.
            people = getattr(exc, "person_ids", set())
            lines = [rows.line[i] for i in written if self._person(i).participant_id in people]
            return _row_error(min(lines, default=line), _messages(exc))
        if isinstance(exc, StaleObjectError):
            line = self.line_of.get(id(exc.instance), line)
            return _row_error(line, _messages(stale_error(exc.instance, exc.read_version)))
        # PostgreSQL names the key refused: (apartment or participant id, [move-in, …).
        diag = getattr(exc.__cause__, "diag", None)
        match = _CONSTRAINT_KEY.search(getattr(diag, "message_detail", None) or "")
        if match:
            constraint = getattr(diag, "constraint_name", None) or ""
            column = "apartment_id" if "apartment" in constraint else "participant_id"
            key = (int(match[1]), date.fromisoformat(match[2]))
            # The chunk being written first (its own apartments have ids only
            # there), then every row written before it.
            found = next(
                (
                    rows.line[i]
                    for tenancy, i in self.writing
                    if (getattr(tenancy, column), tenancy.move_in) == key
                ),
                None,
            )
            if found is None:
                for i in written:
                    ids = {
                        "participant_id": self._person(i).participant_id,
                        "apartment_id": self.apartments.get(self._key(i)),
                    }
                    if (ids[column], rows.value(i, "move_in")) == key:
                        found = rows.line[i]
                        break
            line = found or line
        return _row_error(
            line, _("The tenancy conflicts with an existing one (overlapping period).")
        )


def _change_case(
    participant: Participant, person: _Person, status: str | None, closed_on: date | None
) -> None:
    """Give a held participant the case (and personnummer) the file gives."""
    participant.version = person.held.version  # the version read
    participant.personnummer = participant.personnummer or person.personnummer
    if status is not None:
        participant.status, participant.closed_on = status, closed_on


_ROW_FIELDS = ("contract_type", "move_out", "exit_reason", "takeover")


def _all_but(model, *names: str) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in names]


# What ``clean_fields`` skips: the fields a file does not give, and the
# references (a ForeignKey's check is a query per row; the records referred to
# are the ones planned or loaded here).
_NOT_FROM_THE_FILE = {
    Participant: _all_but(Participant, "external_ref", "personnummer", "status", "closed_on"),
    Apartment: _all_but(Apartment, "address"),
    Tenancy: _all_but(Tenancy, "move_in", *_ROW_FIELDS),
}
_CONSTRAINT_KEY = re.compile(r"=\((\d+), \[(\d{4}-\d{2}-\d{2}),")


def _own_address(ref: str, move_in: date) -> str:
    """The address of the apartment of its own that a row without an
    address gets: named after the reference and the move-in day."""
    return f"{ref} ({move_in:%Y-%m-%d})"
