"""Importing a cohort from a municipality's spreadsheet (CSV), all or nothing.

Columns (UTF-8, header row): ``participant_id`` (the municipality's own
reference, stored as ``Participant.external_ref``; several rows with the same
reference are that person's successive tenancies), ``personnummer``
(optional), ``move_in``, ``move_out`` (empty while housed), ``exit_reason``
(empty while housed), ``landlord`` (created if unknown), ``contract_type``
(``first_hand`` or ``social``), ``takeover`` (optional) and ``address``
(optional: without it each tenancy gets its own apartment named after the
reference and the move-in day).

Every row is checked first; any error means nothing is written, and every
bad row is reported with its line number (the header is line 1). A tenancy is
identified by (reference, move-in day), so importing the same file again
changes nothing, and a corrected file updates what changed. Rows are saved
one by one through ``full_clean()`` and ``save()`` (never ``bulk_create``),
so change history and the access log see every row.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from housing.models import Apartment, ContractType, ExitReason, Landlord, Tenancy
from participants.models import Participant, ParticipantStatus

REQUIRED_COLUMNS = ("participant_id", "move_in", "landlord", "contract_type")
OPTIONAL_COLUMNS = ("personnummer", "move_out", "exit_reason", "takeover", "address")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
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
    """Parse and check every row on its own and across rows; no database writes."""
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


def _overlaps(a: CohortRow, b: CohortRow) -> bool:
    """Half-open periods [move_in, move_out) overlap."""
    a_end = a.move_out or date.max
    b_end = b.move_out or date.max
    return a.move_in < b_end and b.move_in < a_end


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
            if earlier.move_in == later.move_in:
                errors.append(
                    RowError(
                        later.line,
                        _("%(ref)s has two tenancies with the same move_in (line %(other)s).")
                        % {"ref": ref, "other": earlier.line},
                    )
                )
            elif _overlaps(earlier, later):
                errors.append(
                    RowError(
                        later.line,
                        _("%(ref)s: this tenancy overlaps the one on line %(other)s.")
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
    by_address: dict[tuple[str, str], list[CohortRow]] = defaultdict(list)
    for row in rows:
        if row.address:
            by_address[(row.landlord, row.address)].append(row)
    for own in by_address.values():
        own.sort(key=lambda r: (r.move_in, r.line))
        for i, row in enumerate(own):
            for other in own[:i]:
                if other.ref != row.ref and _overlaps(other, row):
                    errors.append(
                        RowError(
                            row.line,
                            _(
                                "The apartment is let to someone else "
                                "(line %(other)s) in the same period."
                            )
                            % {"other": other.line},
                        )
                    )
    return errors


def _save(instance, acting_user) -> None:
    instance.full_clean()
    instance._history_user = acting_user
    instance.save()


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def cohort_import(*, text: str, acting_user=None, commit: bool = True) -> ImportResult:
    """Import the CSV ``text``; with ``commit=False`` a preview that writes nothing.

    Raises nothing for bad data: the result's ``errors`` list every bad row,
    and then nothing was written.
    """
    rows, errors = parse(text)
    result = ImportResult(rows=len(rows), errors=errors)
    if errors:
        return result
    try:
        with transaction.atomic():
            _write(rows, result, acting_user)
            if result.errors or not commit:
                raise _Rollback
    except _Rollback:
        return result
    result.committed = True
    return result


def _write(rows: list[CohortRow], result: ImportResult, acting_user) -> None:
    by_ref: dict[str, list[CohortRow]] = defaultdict(list)
    for row in rows:
        by_ref[row.ref].append(row)
    landlords = {landlord.name: landlord for landlord in Landlord.objects.all()}
    existing = {
        p.external_ref: p for p in Participant.objects.filter(external_ref__in=list(by_ref))
    }
    for ref, own in by_ref.items():
        own.sort(key=lambda r: r.move_in)
        first_line = own[0].line
        pnr = next((r.personnummer for r in own if r.personnummer), None)
        latest = own[-1]
        status = (
            ParticipantStatus.HOUSED
            if latest.move_out is None or (latest.exit_reason == ExitReason.OTHER_HF_APARTMENT)
            else ParticipantStatus.EXITED
        )
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
                participant = Participant(external_ref=ref, personnummer=pnr, status=status)
                _save(participant, acting_user)
                result.participants_created += 1
            else:
                changed = False
                if pnr and participant.personnummer and participant.personnummer != pnr:
                    result.errors.append(
                        RowError(
                            first_line,
                            _("%(ref)s already has another personnummer.") % {"ref": ref},
                        )
                    )
                    continue
                if pnr and not participant.personnummer:
                    participant.personnummer = pnr
                    changed = True
                if participant.status != status:
                    participant.status = status
                    changed = True
                if changed:
                    _save(participant, acting_user)
                    result.participants_updated += 1
        except ValidationError as exc:
            result.errors.append(RowError(first_line, _messages(exc)))
            continue
        current = {t.move_in: t for t in participant.tenancies.select_related("apartment")}
        for row in own:
            try:
                _write_tenancy(
                    row, participant, current.get(row.move_in), landlords, result, acting_user
                )
            except ValidationError as exc:
                result.errors.append(RowError(row.line, _messages(exc)))
            except IntegrityError:
                result.errors.append(
                    RowError(
                        row.line,
                        _("The tenancy conflicts with an existing one (overlapping period)."),
                    )
                )


def _write_tenancy(row, participant, tenancy, landlords, result, acting_user) -> None:
    landlord = landlords.get(row.landlord)
    if landlord is None:
        landlord = Landlord(name=row.landlord)
        _save(landlord, acting_user)
        landlords[row.landlord] = landlord
        result.landlords_created += 1
    address = row.address or f"{row.ref} ({row.move_in:%Y-%m-%d})"
    apartment = Apartment.objects.filter(landlord=landlord, address=address).first()
    if apartment is None:
        apartment = Apartment(landlord=landlord, address=address)
        _save(apartment, acting_user)
        result.apartments_created += 1
    _check_overlaps(row, participant, apartment, tenancy)
    values = {
        "apartment_id": apartment.pk,
        "contract_type": row.contract_type,
        "move_out": row.move_out,
        "exit_reason": row.exit_reason,
        "takeover": row.takeover,
    }
    if tenancy is None:
        tenancy = Tenancy(participant=participant, move_in=row.move_in, **values)
        with transaction.atomic():  # a constraint error must not spoil the outer transaction
            _save(tenancy, acting_user)
        result.tenancies_created += 1
    elif any(getattr(tenancy, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(tenancy, k, v)
        with transaction.atomic():
            _save(tenancy, acting_user)
        result.tenancies_updated += 1
    else:
        result.tenancies_unchanged += 1


def _check_overlaps(row, participant, apartment, tenancy) -> None:
    """Existing tenancies (outside this file's matches) that the row would overlap."""
    end = row.move_out or date.max
    clash = Tenancy.objects.filter(move_in__lt=end).exclude(move_out__lte=row.move_in)
    if tenancy is not None:
        clash = clash.exclude(pk=tenancy.pk)
    if clash.filter(participant=participant).exclude(move_in=row.move_in).exists():
        raise ValidationError(_("The participant already has a tenancy in this period."))
    if clash.filter(apartment=apartment).exclude(participant=participant).exists():
        raise ValidationError(_("The apartment is let to someone else in this period."))
