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

This module reads the file; ``reports/cohort_write.py`` writes it as a
whole, in a few statements through the write path's bulk functions (change
history and the access log see every record), with the housing app's
overlap rule and messages and the participant's case derived as
``participant_update_from_tenancies`` derives it: housed, or closed as of the
last move-out day, the day culling (gallring) counts from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from housing.models import ContractType, ExitReason

from .cohort_write import cohort_write
from .sheets import (
    MAX_ROWS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    RowError,
    SheetError,
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
    "ImportResult",
    "RowError",
    "cohort_import",
    "parse",
]
# How often the reading reports progress: a call per row would cost more
# than the row.
PROGRESS_EVERY = 500

# progress(stage, done, total): stage "check" while reading, "write" while writing.
Progress = Callable[[str, int, int | None], None]


@dataclass(slots=True)
class CohortRow:
    """A checked row of the file. Slotted: the import keeps every row until
    it is written, so a row's size is most of the import's memory."""

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
    # What the write's plan found held for the row's tenancy (set by
    # ``cohort_write._Plan``): None, ``UNCHANGED``, or (id, version) of the
    # tenancy the row changes. A slot, so that no map by row is needed.
    held: object = None


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
    *, data: bytes, filename: str, progress: Progress | None = None
) -> tuple[list[CohortRow], list[RowError], str]:
    """Read and check every row on its own and across rows; no database writes.

    Returns the good rows, the errors (by line) and a description of the
    file's format. Overlapping tenancies are not checked here: writing the
    rows (``_write``) meets the housing app's rule, for rows of the file and
    rows already held.
    """
    report = progress or _no_progress
    try:
        table = read_table(data=data, filename=filename)
    except SheetError as exc:
        return [], list(exc.errors), exc.source
    errors: list[RowError] = []
    rows: list[CohortRow] = []
    read = 0
    # The accepted spellings, looked up once per import rather than per row.
    reasons, contracts = choice_codes(ExitReason), choice_codes(ContractType)
    landlords: dict[str, str] = {}
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
                ref, pnr, move_in, move_out, reason, landlord, contract, takeover, address = parsed
                # One string per landlord, not one per row.
                landlord = landlords.setdefault(landlord, landlord)
                rows.append(
                    CohortRow(
                        row.line,
                        ref,
                        pnr,
                        move_in,
                        move_out,
                        reason,
                        landlord,
                        contract,
                        takeover,
                        address,
                    )
                )
    except SheetError as exc:
        errors.extend(exc.errors)
    report("check", read, read)
    errors.extend(_cross_row_errors(rows))
    if table.sheet:
        errors = [e if e.sheet else replace(e, sheet=table.sheet) for e in errors]
    return rows, sorted(errors, key=lambda e: e.line), table.source


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


def _cross_row_errors(rows: list[CohortRow]) -> list[RowError]:
    errors = []
    by_ref: dict[str, list[CohortRow]] = defaultdict(list)
    refs_by_pnr: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_ref[row.ref].append(row)
        if row.personnummer:
            refs_by_pnr[row.personnummer].add(row.ref)
    for ref, own in by_ref.items():
        own.sort(key=lambda r: (r.move_in, r.line))
        pnrs = {r.personnummer for r in own if r.personnummer}
        if len(pnrs) > 1:
            for r in own:
                errors.append(
                    RowError(
                        r.line,
                        _("%(ref)s has different values in %(column)s on different rows.")
                        % {"ref": ref, "column": column_label("personnummer")},
                    )
                )
        for earlier, later in zip(own, own[1:], strict=False):
            # (reference, move_in) identifies a tenancy: a second row with both
            # would silently overwrite the first.
            if earlier.move_in == later.move_in:
                errors.append(
                    RowError(
                        later.line,
                        _("%(ref)s has two tenancies with the same %(move_in)s (line %(other)s).")
                        % {"ref": ref, "other": earlier.line, **_cols("move_in")},
                    )
                )
    shared_number = _("The same %(personnummer)s is given for several %(participant_id)s.") % _cols(
        "personnummer", "participant_id"
    )
    for _pnr, refs in refs_by_pnr.items():
        if len(refs) > 1:
            for ref in refs:
                for r in by_ref[ref]:
                    if r.personnummer:
                        errors.append(
                            RowError(
                                r.line,
                                shared_number,
                            )
                        )
    return errors


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def cohort_import(
    *,
    data: bytes,
    filename: str,
    acting_user=None,
    commit: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the spreadsheet ``data`` (named ``filename``); with
    ``commit=False`` a preview that writes nothing.

    Raises nothing for bad data: the result's ``errors`` list every bad row,
    and then nothing was written. Rows that pass the checks of ``parse`` are
    written even when others failed them (and rolled back), so that rows the
    database refuses (an overlap) are reported in the same round.

    ``progress(stage, done, total)`` is called now and then with stage
    ``"check"`` while rows are read and checked and ``"write"`` while they
    are written (``total`` is None while unknown).
    """
    report = progress or _no_progress
    rows, errors, source = parse(data=data, filename=filename, progress=report)
    sheet = next((e.sheet for e in errors if e.sheet), "")
    result = ImportResult(rows=len(rows), errors=errors, source=source)
    bad_lines = {e.line for e in errors}
    rows = [row for row in rows if row.line not in bad_lines]
    if not rows:
        return result
    report("write", 0, len(rows))
    try:
        with transaction.atomic():
            cohort_write(rows, result, acting_user=acting_user, progress=report)
            result.errors.sort(key=lambda e: e.line)
            if result.errors or not commit:
                raise _Rollback
    except _Rollback:
        report("write", len(rows), len(rows))
        _name_sheet(result, sheet)
        return result
    report("write", len(rows), len(rows))
    result.committed = True
    return result


def _name_sheet(result: ImportResult, sheet: str) -> None:
    """Errors from writing carry the line only; a workbook's name their sheet."""
    if sheet:
        result.errors = [e if e.sheet else replace(e, sheet=sheet) for e in result.errors]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass
