"""Reading the cohort's table from what municipalities have, and its template.

A file arrives as bytes or an open file, and a name; it is read a chunk at a
time, never held whole. It is read as

- an Excel workbook (``.xlsx``, recognised by its zip signature): checked as a
  zip first (entry count and declared uncompressed size bounded, so a zip bomb
  is refused before anything is inflated; Python's zipfile never inflates an
  entry past its declared size), then read with openpyxl in read-only mode
  with cached values (``data_only``). The first sheet whose first row holds
  the required columns is read. Merged cells and formula cells are refused by
  line: openpyxl's read-only mode sees neither, so the sheet's XML is scanned
  for them once (a streamed regular-expression pass over the inflated entry).
  Date cells arrive as dates; text dates are checked by the caller.
- CSV: the encoding is detected (a UTF-8 BOM, else strict UTF-8, else
  Windows-1252, what Swedish Excel writes for "CSV (semikolonavgränsad)"),
  and the delimiter (``,``, ``;`` or tab) on the header line. The bytes are
  decoded as they are read, never copied whole.

Line numbers are the spreadsheet's row numbers (the header is line 1; a CSV
record that holds a line break in a quoted cell is one row, as Excel shows
it). Empty rows are skipped but counted. Problems that make the file
unreadable raise ``SheetError``; problems of one row are handed over with the
row (``Row.problems``), so that every bad row is reported in one round.

Column headers are the English codes or their Swedish labels (the template's,
plus the spellings in ``SWEDISH_ALIASES``), compared without case, spaces,
hyphens or underscores. Exit reasons and contract types are the English codes
or the labels the app shows (``choice_code``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import BinaryIO

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

# The largest cohort one file may hold. Beyond it the file is refused as soon
# as the row past the limit is read, before anything is written.
MAX_ROWS = 100_000
# Excel's own limit for a cell; longer is not a value a spreadsheet holds.
MAX_CELL_CHARS = 32_767
# csv's limit per field (131,072 characters by default, and a csv.Error past
# it). Raised well above MAX_CELL_CHARS, so a long cell gets the line-numbered
# message below, and only a quote that is never closed reaches this one.
CSV_FIELD_LIMIT = 1 << 20
# An .xlsx from Excel holds 10–30 entries, and a 100,000-row sheet inflates to
# some tens of MB. Both bounds are checked on the zip's directory before
# anything is inflated.
MAX_XLSX_ENTRIES = 1_000
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
# Excel's last row: a sheet or CSV with more rows (empty ones too) is not a
# spreadsheet, and reading it would only take time.
MAX_LINES = 1_048_576

csv.field_size_limit(CSV_FIELD_LIMIT)

XLSX_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97–2003)

REQUIRED_COLUMNS = ("participant_id", "move_in", "landlord", "contract_type")
OPTIONAL_COLUMNS = ("personnummer", "move_out", "exit_reason", "takeover", "address")
# In the template's order.
COLUMNS = (
    "participant_id",
    "personnummer",
    "move_in",
    "move_out",
    "exit_reason",
    "landlord",
    "contract_type",
    "takeover",
    "address",
)
DATE_COLUMNS = frozenset({"move_in", "move_out", "takeover"})

# The header the template writes (Swedish under the Swedish catalog).
COLUMN_LABELS = {
    "participant_id": pgettext_lazy("import column", "Participant ID"),
    "personnummer": pgettext_lazy("import column", "Personnummer"),
    "move_in": pgettext_lazy("import column", "Move-in"),
    "move_out": pgettext_lazy("import column", "Move-out"),
    "exit_reason": pgettext_lazy("import column", "Reason"),
    "landlord": pgettext_lazy("import column", "Landlord"),
    "contract_type": pgettext_lazy("import column", "Contract type"),
    "takeover": pgettext_lazy("import column", "Takeover"),
    "address": pgettext_lazy("import column", "Address"),
}
# Swedish headers accepted whatever the catalog says, so that a file made from
# an older template (or typed by hand) keeps importing if a label changes.
SWEDISH_ALIASES = {
    "participant_id": ("deltagar-id", "deltagarnummer"),
    "personnummer": ("personnummer",),
    "move_in": ("inflyttning", "inflyttningsdatum", "inflyttad"),
    "move_out": ("utflyttning", "utflyttningsdatum", "utflyttad"),
    "exit_reason": ("orsak", "avslutsorsak", "utflyttningsorsak"),
    "landlord": ("hyresvärd",),
    "contract_type": ("kontraktsform", "kontraktstyp", "kontrakt"),
    "takeover": ("övertagande", "övertagandedatum", "kontraktsövertagande"),
    "address": ("adress",),
}
# Short Swedish names for the contract types, beside the full labels.
CHOICE_ALIASES = {
    "förstahandskontrakt": "first_hand",
    "förstahand": "first_hand",
    "socialt kontrakt": "social",
    "socialt": "social",
}

TEMPLATE_SHEET = pgettext_lazy("import template sheet", "Tenancies")
VALUES_SHEET = pgettext_lazy("import template sheet", "Accepted values")

Cell = str | date


class SheetError(Exception):
    """The file (or the rest of it, from ``errors[0].line``) cannot be read."""

    def __init__(self, errors: list, source: str = ""):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.source = source


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
class Row:
    """One non-empty row: its cells by column code (missing cells are "")."""

    line: int
    cells: dict[str, Cell]
    problems: list[str] = field(default_factory=list)


@dataclass
class Table:
    """A readable header; ``rows`` reads the rest as it is iterated and may
    raise ``SheetError`` when the rest cannot be read (its errors name the line)."""

    source: str
    sheet: str
    columns: list[str]
    rows: Iterator[Row]
    # The number of data rows, estimated from the file (for progress only).
    estimate: int | None = None


def _key(text: str) -> str:
    """A header or value without case, spaces, hyphens or underscores."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-.]+", "", text)


def _header_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code in COLUMNS:
        spellings = [code, *SWEDISH_ALIASES[code]]
        for language in ("sv", "en"):
            with translation.override(language):
                spellings.append(str(COLUMN_LABELS[code]))
        for spelling in spellings:
            names[_key(spelling)] = code
    return names


def column_label(code: str) -> str:
    """The code and its Swedish header, for messages: ``move_in (Inflyttning)``."""
    with translation.override("sv"):
        label = str(COLUMN_LABELS[code])
    return f"{code} ({label})"


def choice_codes(choices) -> dict[str, str]:
    """The code of every accepted spelling of ``choices`` (a ``TextChoices``):
    the English code and the label the app shows, in Swedish or English, and
    the short Swedish names; look a cell up with ``choice_key``."""
    codes = {alias: code for alias, code in CHOICE_ALIASES.items() if code in choices.values}
    for choice in choices:
        codes[choice_key(choice.value)] = choice.value
        for language in ("sv", "en"):
            with translation.override(language):
                codes[choice_key(str(choice.label))] = choice.value
    return codes


def choice_key(value: str) -> str:
    """A value without case, with its spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _map_header(cells: list[str], *, sheet: str = "") -> tuple[list[str | None], list[RowError]]:
    """The column code of each header cell (None: an empty header, ignored),
    or the errors that make the header unusable."""
    names = _header_names()
    codes: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    errors: list[RowError] = []
    for cell in cells:
        text = cell.strip()
        if not text:
            codes.append(None)
            continue
        code = names.get(_key(text))
        if code is None:
            unknown.append(text[:40])
        elif code in seen:
            errors.append(
                RowError(
                    1,
                    _("The column %(column)s appears twice (“%(first)s” and “%(second)s”).")
                    % {"column": column_label(code), "first": seen[code], "second": text[:40]},
                    sheet,
                )
            )
        else:
            seen[code] = text[:40]
        codes.append(code)
    missing = [column_label(c) for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        errors.insert(
            0, RowError(1, _("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)}, sheet)
        )
    if unknown:
        errors.append(
            RowError(1, _("Unknown columns: %(cols)s.") % {"cols": ", ".join(unknown)}, sheet)
        )
    return codes, errors


def _row(line: int, codes: list[str | None], values: list[Cell]) -> Row | None:
    """The row's cells by code, or None for an empty row."""
    if not any(v.strip() if isinstance(v, str) else True for v in values):
        return None
    row = Row(line, dict.fromkeys(COLUMNS, ""))
    for index, value in enumerate(values):
        code = codes[index] if index < len(codes) else None
        if isinstance(value, str):
            if len(value) > MAX_CELL_CHARS:
                row.problems.append(
                    _("A cell in column %(column)s is longer than %(n)s characters.")
                    % {"column": _column_name(code, index), "n": f"{MAX_CELL_CHARS:,}"}
                )
                continue
            if "\x00" in value:
                row.problems.append(
                    _("A cell in column %(column)s holds a NUL character.")
                    % {"column": _column_name(code, index)}
                )
                continue
            if code is None and value.strip():
                if index >= len(codes):
                    row.problems.append(_("More cells than columns."))
                    break
                continue  # a column without a header is not read
        if code is not None:
            row.cells[code] = value
    return row


def _column_name(code: str | None, index: int) -> str:
    return code if code else _column_letter(index)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(*, data: bytes | BinaryIO, filename: str) -> Table:
    """The cohort table in ``data``, or ``SheetError``.

    ``data`` is the file's bytes or the file itself, open for reading in
    binary mode and seekable (a temporary file, say): it is read a chunk at a
    time, never held whole, and the table's rows are read from it as they
    are asked for.

    The content decides the format (an .xlsx is a zip); the name only helps
    to say what a file that is neither was meant to be.
    """
    # BytesIO shares the bytes it is given until written to: no copy.
    file = io.BytesIO(data) if isinstance(data, bytes) else data
    file.seek(0)
    head = file.read(len(OLE_SIGNATURE))
    name = filename.lower()
    if head.startswith(XLSX_SIGNATURE):
        return _read_xlsx(file)
    if head.startswith(OLE_SIGNATURE):
        raise SheetError(
            [
                RowError(
                    1,
                    _(
                        "The file is in the old Excel format (.xls). Save it as an Excel "
                        "workbook (.xlsx) or as CSV."
                    ),
                )
            ]
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise SheetError(
            [
                RowError(
                    1, _("The file is not an Excel workbook (.xlsx), although its name says so.")
                )
            ]
        )
    if not any(chunk.strip() for _offset, chunk in _chunks(file)):
        raise SheetError([RowError(1, _("The file is empty."))])
    return _read_csv(file)


# The file a chunk at a time.

CHUNK = 1 << 20


def _chunks(file: BinaryIO, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """``file``'s bytes (up to ``end``) a chunk at a time, with each chunk's
    offset."""
    file.seek(0)
    offset = 0
    while end is None or offset < end:
        chunk = file.read(CHUNK if end is None else min(CHUNK, end - offset))
        if not chunk:
            return
        yield offset, chunk
        offset += len(chunk)


def _count(file: BinaryIO, byte: bytes, end: int | None = None) -> int:
    return sum(chunk.count(byte) for _offset, chunk in _chunks(file, end))


def _search(file: BinaryIO, pattern: re.Pattern, end: int | None = None) -> int | None:
    """Where a one-byte ``pattern`` first matches in ``file`` (before ``end``)."""
    for offset, chunk in _chunks(file, end):
        match = pattern.search(chunk)
        if match:
            return offset + match.start()
    return None


# CSV


DELIMITERS = {
    ",": gettext_lazy("comma-separated"),
    ";": gettext_lazy("semicolon-separated"),
    "\t": gettext_lazy("tab-separated"),
}
# Bytes Windows-1252 leaves undefined: a file that holds them is in neither
# of the encodings read here.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _physical_line(file: BinaryIO, position: int) -> int:
    return _count(file, b"\n", position) + 1


def _encoding(file: BinaryIO) -> tuple[str, str]:
    """The codec and a name for the preview: a BOM, else UTF-8 if every byte
    decodes, else Windows-1252."""
    file.seek(0)
    head = file.read(len(codecs.BOM_UTF8))
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SheetError(
            [
                RowError(
                    1,
                    _(
                        "The file is UTF-16 text (Excel's “Unicode text”). Save it as "
                        "“CSV UTF-8” or as an Excel workbook (.xlsx)."
                    ),
                )
            ]
        )
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _("UTF-8 with BOM")
    position = _utf8_error(file)
    if position is None:
        return "utf-8", "UTF-8"
    # Valid multi-byte UTF-8 before the bad byte means a UTF-8 file with a
    # broken byte: reading it as Windows-1252 would garble every å, ä and ö.
    if _search(file, _NON_ASCII, position) is not None:
        raise SheetError(
            [
                RowError(
                    _physical_line(file, position),
                    _("The file is UTF-8 text but this line holds a byte that is not UTF-8."),
                )
            ]
        )
    bad = _search(file, _NOT_CP1252)
    if bad is not None:
        raise SheetError(
            [
                RowError(
                    _physical_line(file, bad),
                    _(
                        "The file is neither UTF-8 nor Windows-1252 text. Save it as "
                        "“CSV UTF-8” or as an Excel workbook (.xlsx)."
                    ),
                )
            ]
        )
    return "cp1252", "Windows-1252"


def _utf8_error(file: BinaryIO) -> int | None:
    """Where ``file`` stops being UTF-8 (about: a sequence cut by a chunk's
    end counts from the later chunk), or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    start = 0
    for start, chunk in _chunks(file):  # noqa: B007 (the last chunk's start is used below)
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return start + exc.start
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return start + exc.start
    return None


def _delimiter(header_line: str) -> str:
    """The delimiter that makes the most known column names of the header
    line; on a tie the most frequent one."""
    names = _header_names()

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(_key(c) in names for c in cells), header_line.count(delimiter)

    return max(DELIMITERS, key=score)


def _read_csv(file: BinaryIO) -> Table:
    encoding, encoding_name = _encoding(file)
    newlines = _count(file, b"\n")
    reader, stream, delimiter = _csv_reader(file, encoding)
    source = _("CSV, %(delimiter)s, %(encoding)s") % {
        "delimiter": DELIMITERS[delimiter],
        "encoding": encoding_name,
    }
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise SheetError([_csv_error(1, exc)], source) from None
    if any("\x00" in cell for cell in header):
        raise SheetError([_nul_error(1)], source)
    codes, errors = _map_header(header)
    if errors:
        raise SheetError(errors, source)
    if newlines > MAX_ROWS:
        # Maybe too many rows: count them in C before checking any, so that
        # such a file is refused at once rather than after checking 100,000.
        stream.detach()
        over = _csv_line_past_limit(file, encoding, delimiter)
        if over:
            raise SheetError([_too_many_rows(over)], source)
        reader, stream, _delimiter_again = _csv_reader(file, encoding, delimiter)
        next(reader)  # the header, read above
    return Table(
        source=source,
        sheet="",
        columns=[c for c in codes if c],
        rows=_csv_rows(reader, codes, source),
        estimate=max(newlines - 1, 0),
    )


def _csv_reader(
    file: BinaryIO, encoding: str, delimiter: str | None = None
) -> tuple[Iterator[list[str]], io.TextIOWrapper, str]:
    """A csv reader over ``file`` from its start, decoding a chunk at a time
    (with the stream that decodes it), and the delimiter: the one given, or
    the header line's."""
    file.seek(0)
    stream = io.TextIOWrapper(file, encoding=encoding, newline="")
    header_line = stream.readline()
    delimiter = delimiter or _delimiter(header_line)
    reader = csv.reader(itertools.chain([header_line], stream), delimiter=delimiter, strict=True)
    return reader, stream, delimiter


def _csv_rows(reader, codes: list[str | None], source: str) -> Iterator[Row]:
    data_rows = 0
    for line in itertools.count(2):
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SheetError([_csv_error(line, exc)], source) from None
        if any("\x00" in cell for cell in record):
            # A NUL is no part of a spreadsheet's text (PostgreSQL refuses it
            # in a text column): the file is binary or damaged, so stop here.
            raise SheetError([_nul_error(line)], source)
        row = _row(line, codes, record)
        if row is None:
            if line > MAX_LINES:
                raise SheetError([_too_many_lines(line)], source)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise SheetError([_too_many_rows(line)], source)
        yield row


def _csv_line_past_limit(file: BinaryIO, encoding: str, delimiter: str) -> int | None:
    """The line of the first data row past MAX_ROWS, if there is one (a file
    that is not CSV further on is left to the reading that reports it)."""
    file.seek(0)
    stream = io.TextIOWrapper(file, encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    data_rows = -1  # the header
    try:
        for line, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                data_rows += 1
                if data_rows > MAX_ROWS:
                    return line
    except (csv.Error, UnicodeDecodeError):
        pass
    finally:
        stream.detach()  # the file stays open for the reading
    return None


def _csv_error(line: int, exc: csv.Error) -> RowError:
    text = str(exc)
    if "field larger than field limit" in text or "unexpected end of data" in text:
        message = _(
            'A quotation mark (") opened on this line is never closed, so the rest of '
            "the file would be one cell. Close it, or remove it."
        )
    elif "expected after" in text:
        message = _(
            'A quotation mark (") in a quoted cell must be doubled (""), and a quoted '
            "cell must end at the delimiter."
        )
    else:
        message = _("The line cannot be read as CSV.")
    return RowError(line, message)


def _nul_error(line: int) -> RowError:
    return RowError(
        line,
        _("The line holds a NUL byte: the file is not text (CSV) or it is damaged."),
    )


def _too_many_rows(line: int, sheet: str = "") -> RowError:
    return RowError(
        line,
        _("Too many rows: a file may hold at most %(n)s rows besides the header.")
        % {"n": f"{MAX_ROWS:,}".replace(",", "\u00a0")},
        sheet,
    )


def _too_many_lines(line: int, sheet: str = "") -> RowError:
    return RowError(line, _("The file has more rows than a spreadsheet can hold."), sheet)


# Excel workbook


_UNREADABLE_XLSX = gettext_lazy(
    "The file cannot be read as an Excel workbook (.xlsx): it is damaged or not one."
)
_CELL_REF = re.compile(rb'\br="([A-Za-z]{1,3})([0-9]{1,7})"')
_MERGE = re.compile(
    rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref="([A-Za-z]{1,3})([0-9]{1,7})(?::([A-Za-z]{1,3}[0-9]{1,7}))?"'
)
_FORMULA_CELL = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*)>\s*<(?:[\w.-]+:)?f\b")
# A row's start tag (group 1: its attributes) or a value (<v> or an inline <is>).
_ROW_OR_VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:row\b([^>]*)>|(?:v|is)[\s>])")
_ROW_NUMBER = re.compile(rb'\br="([0-9]{1,7})"')


def _check_zip(file: BinaryIO) -> zipfile.ZipFile:
    """The workbook's zip, refused before inflating when it would inflate to
    more than a spreadsheet of MAX_ROWS holds."""
    try:
        archive = zipfile.ZipFile(file)
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise SheetError([RowError(1, str(_UNREADABLE_XLSX))]) from None
    too_big = _(
        "The file inflates to more than a workbook of %(n)s rows can hold; it is refused unread."
    ) % {"n": f"{MAX_ROWS:,}".replace(",", "\u00a0")}
    if len(entries) > MAX_XLSX_ENTRIES:
        raise SheetError([RowError(1, too_big)])
    if sum(entry.file_size for entry in entries) > MAX_XLSX_UNCOMPRESSED:
        raise SheetError([RowError(1, too_big)])
    return archive


@dataclass
class _SheetScan:
    merges: list[tuple[int, str]] = field(default_factory=list)
    formulas: list[tuple[int, str]] = field(default_factory=list)
    # Rows holding a value (the header too), and the number of the first
    # row past MAX_ROWS data rows, if any.
    rows: int = 0
    over_limit_at: int | None = None


def _scan_sheet_xml(archive: zipfile.ZipFile, path: str) -> _SheetScan:
    """Merged ranges and formula cells (each with its first row) of one
    sheet's XML, and its rows that hold a value, read as a stream before
    openpyxl reads the sheet: the regular expressions run in C, so a sheet
    past the row limit is refused in a fraction of openpyxl's time.

    Chunks overlap by 4 KiB, so a tag cut by a chunk's end is matched whole
    in the next one; a match that starts before the end of one already taken
    (by absolute position) is that one again and skipped.
    """
    scan = _SheetScan()
    row_has_value = False
    row_number = 0
    offset = 0  # the absolute position of buffer[0]
    taken = {_MERGE: 0, _FORMULA_CELL: 0, _ROW_OR_VALUE: 0}
    carry = b""
    with archive.open(path.lstrip("/")) as source:
        while chunk := source.read(1 << 20):
            buffer = carry + chunk

            def new(pattern, buffer=buffer, offset=offset):
                for match in pattern.finditer(buffer):
                    if offset + match.start() >= taken[pattern]:
                        taken[pattern] = offset + match.end()
                        yield match

            for match in new(_MERGE):
                column, row, last = match.groups()
                ref = (column + row).decode() + (":" + last.decode() if last else "")
                scan.merges.append((int(row), ref))
            for match in new(_FORMULA_CELL):
                ref = _CELL_REF.search(match.group(1))
                if ref:
                    column, row = ref.groups()
                    scan.formulas.append((int(row), (column + row).decode()))
            for match in new(_ROW_OR_VALUE):
                if match.group(1) is None:
                    row_has_value = True
                    continue
                if row_has_value:
                    scan.rows += 1
                row_has_value = False
                number = _ROW_NUMBER.search(match.group(1))
                row_number = int(number.group(1)) if number else row_number + 1
                if scan.rows > MAX_ROWS:
                    # The header and MAX_ROWS data rows are behind: this row
                    # (or a later one, if this one is empty) is one too many.
                    scan.over_limit_at = row_number
                    return scan
            carry = buffer[-4096:]
            offset += len(buffer) - len(carry)
    if row_has_value:
        scan.rows += 1
    return scan


def _scan(archive: zipfile.ZipFile, ws) -> _SheetScan:
    # openpyxl keeps where a read-only sheet's XML lives in the zip only in
    # this attribute; the tests of merged and formula cells fail if it goes.
    try:
        return _scan_sheet_xml(archive, ws._worksheet_path)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError):
        raise SheetError([RowError(1, str(_UNREADABLE_XLSX))]) from None


def _value(value) -> Cell:
    """A cell as text, or a date for a date cell (a date-time at midnight is
    what Excel stores for a date)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(file: BinaryIO) -> Table:
    from openpyxl import load_workbook

    # Two readers of one file: zipfile seeks to its own place before each read.
    archive = _check_zip(file)
    # A sheet without the <dimension> element Excel writes is parsed whole by
    # openpyxl's constructor to size it, before the scan below can count its
    # rows: the zip bounds above are what bound that time.
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheets = workbook.worksheets
        headers = [
            [_value(v) for v in next(ws.iter_rows(max_row=1, values_only=True), ())]
            for ws in sheets
        ]
    except SheetError:
        raise
    except Exception:
        # openpyxl raises whatever its zip and XML parsers raise on a damaged
        # file (KeyError, ValueError, ParseError, …); all mean the same here.
        raise SheetError([RowError(1, str(_UNREADABLE_XLSX))]) from None
    mapped = [
        (ws, *_map_header([_text(v) for v in header], sheet=ws.title))
        for ws, header in zip(sheets, headers, strict=True)
    ]
    chosen = next((m for m in mapped if set(REQUIRED_COLUMNS) <= set(m[1])), None)
    if chosen is None:
        # A sheet with some of the columns was meant: say what its header
        # lacks (a merged header cell is the usual reason).
        near = next((m for m in mapped if any(m[1])), None)
        if near is not None:
            ws, _codes, errors = near
            scan = _scan(archive, ws)
            errors += _merge_errors([m for m in scan.merges if m[0] == 1], ws.title)
            raise SheetError(sorted(errors, key=lambda e: e.line), _workbook_source(ws.title))
        raise SheetError(
            [
                RowError(
                    1,
                    _(
                        "No sheet has the columns %(cols)s in its first row. The workbook's "
                        "sheets: %(sheets)s."
                    )
                    % {
                        "cols": ", ".join(column_label(c) for c in REQUIRED_COLUMNS),
                        "sheets": ", ".join(
                            _("“%(name)s”") % {"name": name} for name in workbook.sheetnames
                        ),
                    },
                )
            ],
            _("Excel workbook"),
        )
    ws, codes, errors = chosen
    source = _workbook_source(ws.title)
    if errors:
        raise SheetError(errors, source)
    scan = _scan(archive, ws)
    if scan.over_limit_at is not None:
        raise SheetError([_too_many_rows(scan.over_limit_at, ws.title)], source)
    problems = _merge_errors(scan.merges, ws.title) + [
        RowError(
            row,
            _("The cell %(ref)s holds a formula. Paste it as a value instead.") % {"ref": ref},
            ws.title,
        )
        for row, ref in scan.formulas
    ]
    if problems:
        raise SheetError(sorted(problems, key=lambda e: e.line), source)
    # The size the sheet declares can be wrong; forget it so that every row
    # is read (openpyxl would stop at a too small one without a word).
    ws.reset_dimensions()
    return Table(
        source=source,
        sheet=ws.title,
        columns=[c for c in codes if c],
        rows=_xlsx_rows(ws, codes, source),
        estimate=max(scan.rows - 1, 0),
    )


def _merge_errors(merges: list[tuple[int, str]], sheet: str) -> list[RowError]:
    return [
        RowError(
            row,
            _("The cells %(ref)s are merged. Unmerge them and fill in every cell.") % {"ref": ref},
            sheet,
        )
        for row, ref in merges
    ]


def _text(value: Cell) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _workbook_source(sheet: str) -> str:
    return _("Excel workbook, sheet “%(sheet)s”") % {"sheet": sheet}


def _xlsx_rows(ws, codes: list[str | None], source: str) -> Iterator[Row]:
    data_rows = 0
    line = 1
    try:
        rows = ws.iter_rows(min_row=2, values_only=True)
        for line, values in enumerate(rows, start=2):
            row = _row(line, codes, [_value(v) for v in values])
            if row is None:
                if line > MAX_LINES:
                    raise SheetError([_too_many_lines(line, ws.title)], source)
                continue
            data_rows += 1
            if data_rows > MAX_ROWS:
                raise SheetError([_too_many_rows(line, ws.title)], source)
            yield row
    except SheetError:
        raise
    except Exception:
        # See _read_xlsx: a damaged sheet part fails in openpyxl's parser.
        raise SheetError([RowError(line + 1, str(_UNREADABLE_XLSX), ws.title)], source) from None


# The template


def cohort_template_xlsx() -> bytes:
    """An empty cohort workbook: the Swedish headers on the first sheet, and a
    second sheet with the accepted values (codes and Swedish labels) and the
    date format. Written by ``bostadforst.exports.write_workbook``, the one
    .xlsx writer (string cells, bold frozen headers)."""
    from bostadforst.exports import Sheet, write_workbook
    from housing.models import ContractType, ExitReason

    with translation.override("sv"):
        describe = {
            "participant_id": _("The municipality's own reference; one row per tenancy."),
            "personnummer": _("Optional: YYYYMMDD-NNNN."),
            "move_in": _("Date, YYYY-MM-DD (a date cell or text)."),
            "move_out": _("Date, YYYY-MM-DD; empty while the person lives there."),
            "exit_reason": _("One of the reasons below; empty while the person lives there."),
            "landlord": _("The landlord's name; created if unknown."),
            "contract_type": _("One of the contract types below."),
            "takeover": _("Date the tenant took over a social contract, YYYY-MM-DD."),
            "address": _("Optional: the apartment's address."),
        }
        values = [
            [
                str(COLUMN_LABELS[code]),
                _("yes") if code in REQUIRED_COLUMNS else _("no"),
                describe[code],
                code,
            ]
            for code in COLUMNS
        ]
        for heading, choices in (
            (COLUMN_LABELS["exit_reason"], ExitReason),
            (COLUMN_LABELS["contract_type"], ContractType),
        ):
            values.append([])
            values.append(
                [str(heading), "", _("Value (write this or the code)"), _("English code")]
            )
            values += [["", "", str(choice.label), choice.value] for choice in choices]
        out = io.BytesIO()
        write_workbook(
            out,
            [
                Sheet(str(TEMPLATE_SHEET), [str(COLUMN_LABELS[c]) for c in COLUMNS], []),
                Sheet(
                    str(VALUES_SHEET),
                    [_("Column"), _("Required"), _("What it holds"), _("English code")],
                    values,
                ),
            ],
        )
    return out.getvalue()
