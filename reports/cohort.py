"""Importing a cohort from a municipality's spreadsheet (CSV), all or nothing.

Columns (UTF-8, header row): ``participant_id`` (the municipality's own
reference, stored as ``Participant.external_ref``; several rows with the same
reference are that person's successive tenancies), ``personnummer``
(optional), ``move_in``, ``move_out`` (empty while housed), ``exit_reason``
(empty while housed), ``landlord`` (created if unknown), ``contract_type``
(``first_hand`` or ``social``), ``takeover`` (optional) and ``address``
(optional: without it each tenancy gets its own apartment named after the
reference and the move-in day).

Any error means nothing is written, and every bad row is reported with its
line number (the header is line 1). A tenancy is identified by (reference,
move-in day), so importing the same file again changes nothing, and a
corrected file updates what changed.

This module reads the file; the lower apps' services write it, one row at a
time through ``record_save`` (change history and the access log see every
row): ``participant_create_imported``, ``landlord_create``,
``apartment_create``, ``tenancy_import`` (the tenancy's own validation, so
overlaps are refused by the rule and message ``tenancy_assign`` meets) and
``participant_update_from_tenancies``, which houses the person or closes the
case through ``participant_mark_exited`` as of the last move-out day, the day
culling (gallring) counts from.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bostadforst.records import record_save
from housing.models import Apartment, ContractType, ExitReason, Landlord
from housing.services import (
    apartment_create,
    landlord_create,
    participant_update_from_tenancies,
    tenancy_import,
)
from participants.models import Participant
from participants.services import participant_create_imported

REQUIRED_COLUMNS = ("participant_id", "move_in", "landlord", "contract_type")
OPTIONAL_COLUMNS = ("personnummer", "move_out", "exit_reason", "takeover", "address")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    """A problem on one line of the file (the header is line 1); ``sheet``
    names the workbook sheet when the file is an .xlsx."""

    line: int
    message: str
    sheet: str = ""

    def __str__(self) -> str:
        if self.sheet:
            return _("Sheet %(sheet)s, line %(line)s: %(message)s") % {
                "sheet": self.sheet,
                "line": self.line,
                "message": self.message,
            }
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class CohortRow:
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


def _date(value: str, column: str, errors: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) != 10:  # fromisoformat also takes 20240101 and week dates
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors.append(
            _("%(column)s “%(value)s” is not a date in the form YYYY-MM-DD.")
            % {"column": column, "value": value[:20]}
        )
        return None


def parse(text: str) -> tuple[list[CohortRow], list[RowError]]:
    """Parse and check every row on its own and across rows; no database writes.

    Overlapping tenancies are not checked here: writing the rows (``_write``)
    meets the housing app's rule, for rows of the file and rows already held.
    """
    from participants.personnummer import normalise

    errors: list[RowError] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c and c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        errors.append(RowError(1, _("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)}))
    if unknown:
        errors.append(RowError(1, _("Unknown columns: %(cols)s.") % {"cols": ", ".join(unknown)}))
    if errors:
        return [], errors

    rows: list[CohortRow] = []
    for index, raw in enumerate(reader, start=2):
        if index > MAX_ROWS + 1:
            errors.append(RowError(index, _("Too many rows (at most %(n)s).") % {"n": MAX_ROWS}))
            break
        if None in raw:  # more cells than columns
            errors.append(RowError(index, _("More cells than columns.")))
            continue
        cells = {key: (raw.get(key) or "").strip() for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        get = cells.__getitem__
        if not any(cells.values()):
            continue  # blank line
        problems: list[str] = []
        ref = get("participant_id")
        if not ref:
            problems.append(_("participant_id is empty."))
        elif len(ref) > 50:
            problems.append(_("participant_id is longer than 50 characters."))
        pnr = None
        if get("personnummer"):
            try:
                pnr = normalise(get("personnummer"))
            except ValidationError as exc:
                problems.append(_("personnummer: %(error)s") % {"error": " ".join(exc.messages)})
        move_in = _date(get("move_in"), "move_in", problems)
        if move_in is None and not get("move_in"):
            problems.append(_("move_in is empty."))
        move_out = _date(get("move_out"), "move_out", problems)
        takeover = _date(get("takeover"), "takeover", problems)
        reason = get("exit_reason")
        if reason and reason not in ExitReason.values:
            problems.append(
                _("exit_reason “%(value)s” is not one of: %(codes)s.")
                % {"value": reason[:30], "codes": ", ".join(ExitReason.values)}
            )
        if get("move_out") and not reason:
            problems.append(_("A row with move_out needs an exit_reason."))
        if reason and not get("move_out"):
            problems.append(_("A row with an exit_reason needs a move_out date."))
        if move_in and move_out and move_out <= move_in:
            problems.append(_("move_out must be after move_in."))
        contract = get("contract_type")
        if contract not in ContractType.values:
            problems.append(
                _("contract_type “%(value)s” is not one of: %(codes)s.")
                % {"value": contract[:30], "codes": ", ".join(ContractType.values)}
            )
        if takeover:
            if contract != ContractType.SOCIAL:
                problems.append(_("A takeover date needs a social contract."))
            if move_in and takeover < move_in:
                problems.append(_("takeover is before move_in."))
            if move_out and takeover >= move_out:
                problems.append(_("takeover is on or after move_out."))
        landlord = get("landlord")
        if not landlord:
            problems.append(_("landlord is empty."))
        elif len(landlord) > 200:
            problems.append(_("landlord is longer than 200 characters."))
        address = get("address")
        if len(address) > 200:
            problems.append(_("address is longer than 200 characters."))
        if problems:
            errors.extend(RowError(index, p) for p in problems)
            continue
        rows.append(
            CohortRow(
                index, ref, pnr, move_in, move_out, reason, landlord, contract, takeover, address
            )
        )
    errors.extend(_cross_row_errors(rows))
    return rows, sorted(errors, key=lambda e: e.line)


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
                        _("%(ref)s has different personnummer on different rows.") % {"ref": ref},
                    )
                )
        for earlier, later in zip(own, own[1:], strict=False):
            # (reference, move_in) identifies a tenancy: a second row with both
            # would silently overwrite the first.
            if earlier.move_in == later.move_in:
                errors.append(
                    RowError(
                        later.line,
                        _("%(ref)s has two tenancies with the same move_in (line %(other)s).")
                        % {"ref": ref, "other": earlier.line},
                    )
                )
    for _pnr, refs in refs_by_pnr.items():
        if len(refs) > 1:
            for ref in refs:
                for r in by_ref[ref]:
                    if r.personnummer:
                        errors.append(
                            RowError(
                                r.line,
                                _("The same personnummer is given for several participant_id."),
                            )
                        )
    return errors


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


Progress = Callable[[str, int, int | None], None]


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    rows, errors = parse(text)
    report("check", len(rows), len(rows))
    result = ImportResult(rows=len(rows), errors=errors, source=_("CSV"))
    bad_lines = {e.line for e in errors}
    rows = [row for row in rows if row.line not in bad_lines]
    if not rows:
        return result
    report("write", 0, len(rows))
    try:
        with transaction.atomic():
            _write(rows, result, acting_user)
            result.errors.sort(key=lambda e: e.line)
            if result.errors or not commit:
                raise _Rollback
    except _Rollback:
        report("write", len(rows), len(rows))
        return result
    report("write", len(rows), len(rows))
    result.committed = True
    return result


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


def _write(rows: list[CohortRow], result: ImportResult, acting_user) -> None:
    by_ref: dict[str, list[CohortRow]] = defaultdict(list)
    for row in rows:
        by_ref[row.ref].append(row)
    for own in by_ref.values():
        own.sort(key=lambda r: r.move_in)
    created: set[str] = set()
    updated: set[str] = set()
    participants = _write_participants(by_ref, result, created, updated, acting_user)
    landlords = {landlord.name: landlord for landlord in Landlord.objects.all()}
    apartments: dict[tuple[int, str], Apartment] = {}
    failed: set[str] = set()
    # Oldest move-in first, across people: a row is checked against the
    # tenancies already held, and every tenancy that starts earlier then holds
    # the file's values (an earlier tenant's corrected move-out day frees the
    # apartment). One that starts later overlaps the row or not whatever its
    # end, the value a corrected file changes (only a file that also moves it
    # to another apartment can meet its old one here).
    for row in sorted(rows, key=lambda r: (r.move_in, r.line)):
        participant = participants.get(row.ref)
        if participant is None:
            continue
        try:
            apartment = _apartment(row, landlords, apartments, result, acting_user)
            _tenancy, outcome = tenancy_import(
                participant=participant,
                apartment=apartment,
                contract_type=row.contract_type,
                move_in=row.move_in,
                move_out=row.move_out,
                exit_reason=row.exit_reason,
                takeover=row.takeover,
                acting_user=acting_user,
            )
        except ValidationError as exc:
            result.errors.append(RowError(row.line, _messages(exc)))
            failed.add(row.ref)
            continue
        except IntegrityError:
            # Only a race gets here (the validation above checks the same
            # rule); the service's savepoint keeps the import's transaction.
            result.errors.append(
                RowError(
                    row.line,
                    _("The tenancy conflicts with an existing one (overlapping period)."),
                )
            )
            failed.add(row.ref)
            continue
        if outcome == "created":
            result.tenancies_created += 1
        elif outcome == "updated":
            result.tenancies_updated += 1
        else:
            result.tenancies_unchanged += 1
    for ref, participant in participants.items():
        if ref in failed:
            continue  # the import rolls back; the case would follow a partial record
        try:
            changed = participant_update_from_tenancies(
                participant=participant, acting_user=acting_user
            )
        except ValidationError as exc:
            result.errors.append(RowError(by_ref[ref][0].line, _messages(exc)))
            continue
        if changed and ref not in created:
            updated.add(ref)
    result.participants_updated = len(updated)


def _write_participants(
    by_ref: dict[str, list[CohortRow]],
    result: ImportResult,
    created: set[str],
    updated: set[str],
    acting_user,
) -> dict[str, Participant]:
    """The participant of each reference, created or with a personnummer
    filled in (the references go into ``created`` / ``updated``)."""
    existing = {
        p.external_ref: p for p in Participant.objects.filter(external_ref__in=list(by_ref))
    }
    found: dict[str, Participant] = {}
    for ref, own in by_ref.items():
        first_line = own[0].line
        pnr = next((r.personnummer for r in own if r.personnummer), None)
        participant = existing.get(ref)
        try:
            if participant is None:
                if pnr and Participant.objects.filter(personnummer=pnr).exists():
                    result.errors.append(
                        RowError(
                            first_line,
                            _("The personnummer belongs to a participant with another reference."),
                        )
                    )
                    continue
                participant = participant_create_imported(
                    external_ref=ref, personnummer=pnr, acting_user=acting_user
                )
                result.participants_created += 1
                created.add(ref)
            elif pnr and participant.personnummer and participant.personnummer != pnr:
                result.errors.append(
                    RowError(
                        first_line, _("%(ref)s already has another personnummer.") % {"ref": ref}
                    )
                )
                continue
            elif pnr and not participant.personnummer:
                participant.personnummer = pnr
                record_save(participant, acting_user=acting_user)
                updated.add(ref)
        except ValidationError as exc:
            result.errors.append(RowError(first_line, _messages(exc)))
            continue
        found[ref] = participant
    return found


def _apartment(row, landlords, apartments, result, acting_user) -> Apartment:
    """The row's apartment (created with its landlord when unknown)."""
    landlord = landlords.get(row.landlord)
    if landlord is None:
        landlord = landlord_create(name=row.landlord, acting_user=acting_user)
        landlords[row.landlord] = landlord
        result.landlords_created += 1
    address = row.address or f"{row.ref} ({row.move_in:%Y-%m-%d})"
    key = (landlord.pk, address)
    if key not in apartments:
        apartment = Apartment.objects.filter(landlord=landlord, address=address).first()
        if apartment is None:
            apartment = apartment_create(
                landlord=landlord, address=address, acting_user=acting_user
            )
            result.apartments_created += 1
        apartments[key] = apartment
    return apartments[key]
