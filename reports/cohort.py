"""Importing a cohort from a municipality's spreadsheet, all or nothing.

The file is an Excel workbook (.xlsx) or a CSV as Excel writes it (``,`` or
``;``; UTF-8, UTF-8 with BOM or Windows-1252): ``reports/sheets.py`` reads
it. Columns (a header row, as English codes or Swedish labels):
``participant_id`` (the municipality's own
reference, stored as ``Participant.external_ref``; several rows with the same
reference are that person's successive tenancies), ``personnummer``
(optional), ``move_in``, ``move_out`` (empty while housed), ``exit_reason``
(empty while housed), ``landlord`` (created if unknown), ``contract_type``
(``first_hand`` or ``social``, or the Swedish labels), ``takeover`` (optional) and ``address``
(optional: without it each tenancy gets its own apartment named after the
reference and the move-in day).

Any error means nothing is written, and every bad row is reported with its
line number (the header is line 1). A tenancy is identified by (reference,
move-in day), so importing the same file again changes nothing, and a
corrected file updates what changed.

This module reads the file and stages its rows in a temporary table
(``_Stage``), so that the import's memory is the same for any file; then a
batch of people at a time, ``reports/cohort_write.py`` checks and writes
their rows in a few statements through the write path's bulk functions (change
history and the access log see every record), with the housing app's
overlap rule and messages and the participant's case derived as
``participant_update_from_tenancies`` derives it: housed, or closed as of the
last move-out day, the day culling (gallring) counts from.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from housing.models import ContractType, ExitReason

from .cohort_write import cohort_write
from .sheets import COLUMNS as sheet_columns
from .sheets import (
    MAX_ROWS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    RowError,
    SheetError,
    Table,
    choice_codes,
    choice_key,
    column_label,
    read_table,
)

__all__ = [
    "MAX_ROWS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CohortRow",
    "CohortRows",
    "ImportResult",
    "RowError",
    "cohort_import",
    "parse",
]
# How often the reading reports progress: a call per row would cost more
# than the row.
PROGRESS_EVERY = 500
# People checked, planned and written together (``_Stage.batches``): a
# batch's plan is what the import holds in memory, whatever the file's size.
PEOPLE_PER_BATCH = 10_000
# Rows sent to the staging table per statement.
STAGE_CHUNK = 2000

# progress(stage, done, total): stage "check" while reading, "write" while writing.
Progress = Callable[[str, int, int | None], None]


@dataclass(slots=True)
class CohortRow:
    """A checked row of the file, as ``CohortRows`` gives it when asked
    (``parse``'s rows, messages, the records being written)."""

    line: int
    ref: str
    personnummer: str | None
    move_in: date
    move_out: date | None
    exit_reason: str
    landlord: str
    contract_type: str
    takeover: date | None
    address: str


class CohortRows:
    """The checked rows of a batch of people (``_Stage.batches``), a column
    at a time, as ``cohort_write`` plans and writes them.

    Kept as ``CohortRow`` objects with their texts and dates, a row took
    about 0.3 KB; here it is a few small numbers in ``array`` columns (dates
    as ordinals, 0 for none; texts as indices into ``texts``, each distinct
    landlord and address once; the reference as the index of its person),
    about 40 bytes. Per person the reference and the first personnummer
    given are kept once. ``rows[i]`` makes the i-th row (in line order) as a
    ``CohortRow`` when asked for.
    """

    def __init__(self) -> None:
        self.line = array("I")
        self.person = array("I")  # index into ``refs``
        self.move_in = array("i")  # date ordinals; 0: none
        self.move_out = array("i")
        self.takeover = array("i")
        self.reason = array("B")  # index into ``choices``
        self.contract = array("B")
        self.landlord = array("I")  # index into ``texts``
        self.address = array("I")
        self.has_number = array("B")  # the row gives a personnummer
        self.refs: list[str] = []
        self.numbers: list[str | None] = []  # per person: the personnummer given
        self.person_of: dict[str, int] = {}
        self.texts: list[str] = [""]
        self._text_index: dict[str, int] = {"": 0}
        self.choices: list[str] = [""]
        self._choice_index: dict[str, int] = {"": 0}
        # Each person's rows in (move_in, line) order: ``order[starts[p]:starts[p + 1]]``.
        self.order = array("I")
        self.starts = array("I")

    def __len__(self) -> int:
        return len(self.line)

    def __getitem__(self, i: int) -> CohortRow:
        return CohortRow(
            self.line[i],
            self.ref(i),
            self.numbers[self.person[i]] if self.has_number[i] else None,
            self.date(self.move_in[i]),
            self.date(self.move_out[i]),
            self.choices[self.reason[i]],
            self.texts[self.landlord[i]],
            self.choices[self.contract[i]],
            self.date(self.takeover[i]),
            self.texts[self.address[i]],
        )

    def __iter__(self) -> Iterator[CohortRow]:
        return (self[i] for i in range(len(self)))

    @staticmethod
    def date(ordinal: int) -> date | None:
        return date.fromordinal(ordinal) if ordinal else None

    def _text(self, text: str) -> int:
        index = self._text_index.get(text)
        if index is None:
            index = self._text_index[text] = len(self.texts)
            self.texts.append(text)
        return index

    def _choice(self, code: str) -> int:
        index = self._choice_index.get(code)
        if index is None:
            index = self._choice_index[code] = len(self.choices)
            self.choices.append(code)
        return index

    def add(
        self,
        line: int,
        ref: str,
        personnummer: str | None,
        move_in: int,
        move_out: int,
        exit_reason: str,
        landlord: str,
        contract_type: str,
        takeover: int,
        address: str,
    ) -> None:
        """Keep a checked row, its dates as ordinals (0: none)."""
        person = self.person_of.get(ref)
        if person is None:
            person = self.person_of[ref] = len(self.refs)
            self.refs.append(ref)
            self.numbers.append(personnummer)
        elif personnummer and not self.numbers[person]:
            self.numbers[person] = personnummer
        self.line.append(line)
        self.person.append(person)
        self.move_in.append(move_in)
        self.move_out.append(move_out)
        self.takeover.append(takeover)
        self.reason.append(self._choice(exit_reason))
        self.contract.append(self._choice(contract_type))
        self.landlord.append(self._text(landlord))
        self.address.append(self._text(address))
        self.has_number.append(1 if personnummer else 0)

    @classmethod
    def of_rows(cls, rows: Iterable[tuple], skip: set[int]) -> CohortRows:
        """The staged ``rows`` (``_Stage.COLUMNS``, in line order) but those
        on the lines ``skip``, indexed."""
        kept = cls()
        for row in rows:
            if row[0] not in skip:
                kept.add(*row)
        kept.index()
        return kept

    # A row's values by field name, as the records have them.
    def ref(self, i: int) -> str:
        return self.refs[self.person[i]]

    def value(self, i: int, name: str):
        if name in ("move_in", "move_out", "takeover"):
            return self.date(getattr(self, name)[i])
        if name == "exit_reason":
            return self.choices[self.reason[i]]
        if name == "contract_type":
            return self.choices[self.contract[i]]
        if name in ("landlord", "address"):
            return self.texts[getattr(self, name)[i]]
        raise AttributeError(name)

    def index(self) -> None:
        """Sort each person's rows by (move_in, line) into ``order``: a
        counting sort by person (file order within), then each person's few
        rows by move-in day, so no list of every row is made."""
        people = len(self.refs)
        counts = array("I", bytes(4 * (people + 1)))
        for person in self.person:
            counts[person + 1] += 1
        for person in range(people):
            counts[person + 1] += counts[person]
        self.starts = array("I", counts)
        order = array("I", bytes(4 * len(self)))
        for i, person in enumerate(self.person):
            order[counts[person]] = i
            counts[person] += 1
        move_in = self.move_in
        for person in range(people):
            start, end = self.starts[person], self.starts[person + 1]
            if end - start > 1:
                order[start:end] = array("I", sorted(order[start:end], key=move_in.__getitem__))
        self.order = order

    def of(self, person: int) -> array:
        """The rows of ``person`` in (move_in, line) order (``index`` first)."""
        return self.order[self.starts[person] : self.starts[person + 1]]


@dataclass
class ImportResult:
    rows: int = 0
    participants_created: int = 0
    participants_updated: int = 0
    landlords_created: int = 0
    apartments_created: int = 0
    tenancies_created: int = 0
    tenancies_updated: int = 0
    tenancies_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    # What the file was read as, for the preview: "CSV, semikolonavgränsad,
    # Windows-1252" or "Excel-arbetsbok, blad ”Boenden”".
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return (
            self.participants_created
            + self.participants_updated
            + self.landlords_created
            + self.apartments_created
            + self.tenancies_created
            + self.tenancies_updated
        )


class CohortImportError(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class _Rollback(Exception):
    """Raised inside the import transaction to undo a preview."""


def _date(value: str | date, column: str, errors: list[str]) -> date | None:
    """A date cell, or text in the form YYYY-MM-DD (also with the midnight
    time Excel adds when it writes a date-time as text)."""
    if isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    day = value
    for midnight in (" 00:00:00", " 00:00", "T00:00:00"):
        day = day.removesuffix(midnight)
    try:
        if len(day) != 10:  # fromisoformat also takes 20240101 and week dates
            raise ValueError(value)
        return date.fromisoformat(day)
    except ValueError:
        errors.append(
            _("%(column)s “%(value)s” is not a date in the form YYYY-MM-DD.")
            % {"column": column_label(column), "value": value[:20]}
        )
        return None


def _cols(*codes: str) -> dict[str, str]:
    """Columns for a message, by code and Swedish header (``column`` when one)."""
    names = {code: column_label(code) for code in codes}
    return {"column": names[codes[0]], **names} if len(codes) == 1 else names


def _too_long(code: str, limit: int) -> str:
    return _("%(column)s is longer than %(max)s characters.") % {
        "column": column_label(code),
        "max": limit,
    }


def _text(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value.strip()


def parse(
    *, data: bytes | BinaryIO, filename: str, progress: Progress | None = None
) -> tuple[list[CohortRow], list[RowError], str]:
    """Read and check every row on its own and across rows, as the import
    does, and write nothing (but the staging table, dropped). Returns the
    good rows in line order, the errors (by line) and a description of the
    file's format. Overlapping tenancies are not checked here: writing the
    rows (``cohort_write``) meets the housing app's rule, for rows of the
    file and rows already held."""
    try:
        table = read_table(data=data, filename=filename)
    except SheetError as exc:
        return [], list(exc.errors), exc.source
    rows: list[CohortRow] = []
    with _Stage() as stage:
        errors = _stage_file(stage, table, progress or _no_progress)
        for batch, batch_errors in stage.batches():
            errors.extend(batch_errors)
            rows.extend(_row(*row) for row in batch)
    rows.sort(key=lambda row: row.line)
    return rows, _named(sorted(errors, key=lambda e: e.line), table.sheet), table.source


def _row(line, ref, personnummer, move_in, move_out, reason, landlord, contract, takeover, address):
    """A staged row as a ``CohortRow``."""
    day = CohortRows.date
    return CohortRow(
        line,
        ref,
        personnummer,
        day(move_in),
        day(move_out),
        reason,
        landlord,
        contract,
        day(takeover),
        address,
    )


class _Stage:
    """The file's checked rows in a temporary table (of the database
    connection: no other session sees it), read back a batch of people at a
    time; ``with _Stage() as stage:`` makes the table and drops it.

    This is what keeps the import's memory flat in the file's size: the
    rows go to the database as they are read (``STAGE_CHUNK`` at a time),
    the checks across people (a personnummer given for several) are one
    query, and each batch of ``PEOPLE_PER_BATCH`` people comes back with all
    their rows, in line order, to be checked across their rows, planned and
    written.

    The rows are staged in short transactions of their own, before the
    import's transaction begins (inside a caller's, they are part of it):
    the reading holds no transaction open, so on SQLite the progress it
    reports is seen by the connection that reads it too. The table is
    dropped on leaving, or rolled back with the caller's transaction when
    that has failed. (A temporary table needs no privilege beyond the
    database's TEMPORARY, which ``db_app_role`` grants the app's role.)
    """

    TABLE = "cohort_import_stage"
    # The file's columns in the template's order, after the line (the
    # reference as ``ref``; dates as ordinals, 0 for none).
    COLUMNS = ("line", "ref", *sheet_columns[1:])

    def __init__(self) -> None:
        self.count = 0
        self._pending: list[tuple] = []

    def __enter__(self) -> _Stage:
        columns = ", ".join(
            f"{name} {'integer NOT NULL' if name in _ORDINALS else 'text'}" for name in self.COLUMNS
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {self.TABLE} ({columns})")
            cursor.execute(f"CREATE INDEX {self.TABLE}_ref ON {self.TABLE} (ref)")
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if connection.needs_rollback:
            return  # the caller's transaction failed: its rollback takes the table
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {self.TABLE}")
        except DatabaseError:
            if exc is None:
                raise
            # Leaving on the database's own failure (a lost connection, say):
            # that error is the one to see, and the session's end drops the table.

    def add(self, line: int, parsed: tuple) -> None:
        ref, number, move_in, move_out, reason, landlord, contract, takeover, address = parsed
        self._pending.append(
            (
                line,
                ref,
                number,
                move_in.toordinal(),
                move_out.toordinal() if move_out else 0,
                reason,
                landlord,
                contract,
                takeover.toordinal() if takeover else 0,
                address,
            )
        )
        self.count += 1
        if len(self._pending) >= STAGE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            marks = ", ".join(["%s"] * len(self.COLUMNS))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {self.TABLE} VALUES ({marks})", self._pending)
            self._pending = []

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("{t}", self.TABLE), params)
            return cursor.fetchall()

    def batches(self) -> Iterator[tuple[list[tuple], list[RowError]]]:
        """Each batch of people: all their rows (in line order) and the
        errors across those rows (``_cross_row_errors``)."""
        self.flush()
        shared = {
            line
            for (line,) in self._query(
                # The rows giving a personnummer of each person who shares one
                # with another person.
                "SELECT line FROM {t} WHERE personnummer IS NOT NULL AND ref IN ("
                " SELECT ref FROM {t} WHERE personnummer IN ("
                "  SELECT personnummer FROM {t} WHERE personnummer IS NOT NULL"
                "  GROUP BY personnummer HAVING COUNT(DISTINCT ref) > 1))"
            )
        }
        columns = ", ".join(self.COLUMNS)
        after = None
        while True:
            since, params = ("", []) if after is None else ("WHERE ref > %s", [after])
            last = self._query(
                f"SELECT ref FROM {{t}} {since} GROUP BY ref ORDER BY ref LIMIT 1 OFFSET %s",
                [*params, PEOPLE_PER_BATCH - 1],
            )
            until = "" if not last else (" AND ref <= %s" if since else "WHERE ref <= %s")
            rows = self._query(
                f"SELECT {columns} FROM {{t}} {since}{until} ORDER BY line",
                [*params, *(last[0] if last else ())],
            )
            if rows:
                yield rows, _cross_row_errors(rows, shared)
                rows = None  # gone before the next batch is read (the caller lets go too)
            if not last:
                return
            after = last[0][0]


_ORDINALS = {"line", "move_in", "move_out", "takeover"}


def _stage_file(stage: _Stage, table: Table, report: Progress) -> list[RowError]:
    """Check each row of ``table`` on its own, staging the good ones;
    returns the errors."""
    errors: list[RowError] = []
    read = 0
    # The accepted spellings, looked up once per import rather than per row.
    reasons, contracts = choice_codes(ExitReason), choice_codes(ContractType)
    report("check", 0, table.estimate)
    try:
        for row in table.rows:
            read += 1
            if read % PROGRESS_EVERY == 0:
                report("check", read, table.estimate)
            problems = list(row.problems)
            parsed = None if problems else _parse_row(row.cells, problems, reasons, contracts)
            if problems:
                errors.extend(RowError(row.line, p, table.sheet) for p in problems)
            elif parsed is not None:
                stage.add(row.line, parsed)
    except SheetError as exc:
        errors.extend(exc.errors)
    stage.flush()
    report("check", read, read)
    return errors


def _parse_row(
    cells: dict, problems: list[str], reasons: dict[str, str], contracts: dict[str, str]
) -> tuple | None:
    """The row's values in ``CohortRow``'s order after the line, or None
    with the reasons in ``problems``. ``reasons`` and ``contracts`` map the
    accepted spellings to codes (``choice_codes``)."""
    from participants.personnummer import normalise

    ref = _text(cells["participant_id"])
    if not ref:
        problems.append(_("%(column)s is empty.") % _cols("participant_id"))
    elif len(ref) > 50:
        problems.append(_too_long("participant_id", 50))
    pnr = None
    if _text(cells["personnummer"]):
        try:
            pnr = normalise(_text(cells["personnummer"]))
        except ValidationError as exc:
            problems.append(
                _("%(column)s: %(error)s")
                % {"column": column_label("personnummer"), "error": " ".join(exc.messages)}
            )
    move_in = _date(cells["move_in"], "move_in", problems)
    if move_in is None and not _text(cells["move_in"]):
        problems.append(_("%(column)s is empty.") % _cols("move_in"))
    move_out = _date(cells["move_out"], "move_out", problems)
    takeover = _date(cells["takeover"], "takeover", problems)
    reason_text = _text(cells["exit_reason"])
    reason = reasons.get(choice_key(reason_text), "") if reason_text else ""
    if reason_text and not reason:
        problems.append(
            _("%(column)s “%(value)s” is not one of: %(codes)s.")
            % {
                "column": column_label("exit_reason"),
                "value": reason_text[:30],
                "codes": ", ".join(ExitReason.values),
            }
        )
    has_move_out = bool(_text(cells["move_out"]))
    if has_move_out and not reason_text:
        problems.append(
            _("A row with %(move_out)s needs %(exit_reason)s.") % _cols("move_out", "exit_reason")
        )
    if reason_text and not has_move_out:
        problems.append(
            _("A row with %(exit_reason)s needs %(move_out)s.") % _cols("move_out", "exit_reason")
        )
    if move_in and move_out and move_out <= move_in:
        problems.append(_("%(move_out)s must be after %(move_in)s.") % _cols("move_out", "move_in"))
    contract_text = _text(cells["contract_type"])
    contract = contracts.get(choice_key(contract_text), "")
    if not contract:
        problems.append(
            _("%(column)s “%(value)s” is not one of: %(codes)s.")
            % {
                "column": column_label("contract_type"),
                "value": contract_text[:30],
                "codes": ", ".join(ContractType.values),
            }
        )
    if takeover:
        if contract != ContractType.SOCIAL:
            problems.append(
                _("%(takeover)s needs a social contract in %(contract_type)s.")
                % _cols("takeover", "contract_type")
            )
        if move_in and takeover < move_in:
            problems.append(_("%(takeover)s is before %(move_in)s.") % _cols("takeover", "move_in"))
        if move_out and takeover >= move_out:
            problems.append(
                _("%(takeover)s is on or after %(move_out)s.") % _cols("takeover", "move_out")
            )
    landlord = _text(cells["landlord"])
    if not landlord:
        problems.append(_("%(column)s is empty.") % _cols("landlord"))
    elif len(landlord) > 200:
        problems.append(_too_long("landlord", 200))
    address = _text(cells["address"])
    if len(address) > 200:
        problems.append(_too_long("address", 200))
    if problems:
        return None
    return ref, pnr, move_in, move_out, reason, landlord, contract, takeover, address


def _cross_row_errors(rows: list[tuple], shared: set[int]) -> list[RowError]:
    """Of a batch's staged ``rows`` (whole people, in line order): a person
    given different personnummer (every row of theirs), two tenancies of a
    person on one move-in day (the later line), and a personnummer given for
    several people (``shared``: the lines of their rows that give one)."""
    own: dict[str, list[tuple]] = {}
    for row in rows:
        own.setdefault(row[1], []).append(row)
    several = [
        (ref, person)
        for ref, person in own.items()
        if len({row[2] for row in person if row[2]}) > 1
    ]
    errors = []
    for ref, person in several:
        for row in sorted(person, key=_move_in_order):
            errors.append(
                RowError(
                    row[0],
                    _("%(ref)s has different values in %(column)s on different rows.")
                    % {"ref": ref, "column": column_label("personnummer")},
                )
            )
    for ref, person in own.items():
        person.sort(key=_move_in_order)
        for earlier, later in zip(person, person[1:], strict=False):
            # (reference, move_in) identifies a tenancy: a second row with both
            # would silently overwrite the first.
            if earlier[3] == later[3]:
                errors.append(
                    RowError(
                        later[0],
                        _("%(ref)s has two tenancies with the same %(move_in)s (line %(other)s).")
                        % {"ref": ref, "other": earlier[0], **_cols("move_in")},
                    )
                )
    if shared:
        message = _("The same %(personnummer)s is given for several %(participant_id)s.") % _cols(
            "personnummer", "participant_id"
        )
        errors.extend(RowError(row[0], message) for row in rows if row[0] in shared)
    return errors


def _move_in_order(row: tuple) -> tuple[int, int]:
    return row[3], row[0]


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def cohort_import(
    *,
    data: bytes | BinaryIO,
    filename: str,
    acting_user=None,
    commit: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the spreadsheet ``data`` (named ``filename``: its bytes, or
    the file open for reading, which is then read as the import goes; see
    ``sheets.read_table``); with ``commit=False`` a preview that writes
    nothing.

    Raises nothing for bad data: the result's ``errors`` list every bad row,
    and then nothing was written. Rows that pass the checks of ``parse`` are
    written even when others failed them (and rolled back), so that rows the
    database refuses (an overlap) are reported in the same round.

    The rows are staged (``_Stage``) and then checked and written a batch of
    ``PEOPLE_PER_BATCH`` people at a time, in one transaction: a batch sees
    what the batches before it wrote as held. Once a batch or the reading
    has found an error nothing more is written, so the batches after it are
    checked against what is held and each other's rows only: in a file of
    more people than a batch, a clash between two batches' rows is then
    reported in the next round, once the first errors are corrected.

    ``progress(stage, done, total)`` is called now and then with stage
    ``"check"`` while rows are read and checked and ``"write"`` while they
    are written (``total`` is None while unknown).
    """
    report = progress or _no_progress
    try:
        table = read_table(data=data, filename=filename)
    except SheetError as exc:
        # An unreadable file: not a row read, nor the database touched.
        return ImportResult(errors=list(exc.errors), source=exc.source)
    result = ImportResult(source=table.source)
    with _Stage() as stage:
        result.errors = _stage_file(stage, table, report)
        result.rows = total = stage.count
        if total:
            report("write", 0, total)
        try:
            with transaction.atomic():
                done = 0
                for batch, errors in stage.batches():
                    result.errors.extend(errors)
                    rows = CohortRows.of_rows(batch, {e.line for e in errors})
                    if len(rows):

                        def batch_progress(_stage, written, _rows, before=done):
                            report("write", before + written, total)

                        cohort_write(rows, result, acting_user=acting_user, progress=batch_progress)
                    done += len(batch)
                    report("write", done, total)
                    del batch, rows  # before the next batch is read
                result.errors = _named(sorted(result.errors, key=lambda e: e.line), table.sheet)
                if result.errors or not commit:
                    raise _Rollback
        except _Rollback:
            return result
    result.committed = True
    return result


def _named(errors: list[RowError], sheet: str) -> list[RowError]:
    """Errors from checks across rows and from writing carry the line only;
    a workbook's name their sheet."""
    if not sheet:
        return errors
    return [e if e.sheet else replace(e, sheet=sheet) for e in errors]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass
