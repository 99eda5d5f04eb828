"""CSV exports: the one writer every download and every CSV file goes through.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and Excel does so after a leading tab or carriage return too (OWASP
"CSV Injection", PITFALLS #13): a landlord named ``=HYPERLINK("http://…","x")``
in an import becomes a live link in the manager's download. ``safe_cell``
prefixes such text with ``'``, which spreadsheets show as text; ``write_csv``
and ``csv_response`` apply it to every cell, headings included, so a caller
cannot forget it. ``tests/bostadforst/test_exports.py`` walks every route for
CSV downloads with planted formulas and checks that no other module calls
``csv.writer`` or answers ``text/csv`` itself.

Numbers: ints, floats and Decimals are written as they are, negative ones
included. Their text is a sign, digits, a point and perhaps an exponent, which
no spreadsheet runs as a formula, and a prefix would turn -3 into the text '-3
that no longer sums. Only finite numbers of those types pass: the string "-3"
came from somebody's typing and is escaped like any other text.

Format: the web downloads are UTF-8 with a BOM and ``;`` between cells, which
is what Swedish Excel opens correctly (PITFALLS #15).

Excel: ``write_xlsx`` writes the same header and rows as an .xlsx workbook with
openpyxl's write-only mode, which streams rows to a temporary file (memory stays
constant whatever the row count). openpyxl makes any string that starts with
``=`` a formula (PITFALLS #13), so every text cell is written as a string cell
(``data_type = "s"``) and keeps its text exactly, without the CSV's ``'``.
Dates and times become date cells (times in Europe/Stockholm, made naive, as
Excel has no time zones), numbers stay numbers, and a column whose kind is
``RATE`` (or a ``Percent`` value) holds fractions shown as per cent. The
header row is bold and frozen.

``download_response(fmt, stem, header, rows, kinds=None)`` is the one answer
both formats go through: ``fmt`` is ``"csv"`` or ``"xlsx"`` (anything else is a
404), the file is named ``stem`` plus the format's extension.

``stored_file_download`` answers with a file a background job stored (a
report's PDF, a register extract, a research export), logged as an export.
"""

from __future__ import annotations

import csv
import itertools
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .access_log import log_access
from .models import AccessLogEntry

CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
DELIMITER = ";"

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)

# Column kinds a caller may pass to ``write_xlsx`` / ``download_response``
# (the same names ``reports.presentation`` gives its table columns). A column
# without a kind, or of another kind, is written by its values' types.
TEXT, NUMBER, RATE, DATE, DATETIME = "text", "number", "rate", "date", "datetime"

DATE_FORMAT = "yyyy-mm-dd"
# Seconds kept: the access log is read to the second.
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
PERCENT_FORMAT = "0.0%"
# Rows looked at for the column widths before the rest streams past.
WIDTH_SAMPLE_ROWS = 200
MAX_WIDTH = 60
# An .xlsx built up to this size stays in memory; a larger one goes to disk.
SPOOL_BYTES = 8 * 1024 * 1024

# What a spreadsheet takes as the start of a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell no spreadsheet runs as a formula.

    None becomes empty; finite ints, floats and Decimals stay numbers; any
    other value is written as its text, with ``'`` in front when that text
    begins like a formula.
    """
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and math.isfinite(value):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(
    file,
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    delimiter: str = DELIMITER,
) -> None:
    """Write ``header`` and ``rows`` to the text file ``file``, every cell through
    ``safe_cell``. ``rows`` may be a generator: nothing is held in memory."""
    writer = csv.writer(file, delimiter=delimiter)
    writer.writerow([safe_cell(value) for value in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)


def csv_response(
    filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """A CSV download named ``filename``: UTF-8 with a BOM, ``;``-separated, safe cells."""
    response = HttpResponse(content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response.write(BOM)
    write_csv(response, header, rows)
    return response


class Percent(float):
    """A fraction shown as per cent in an .xlsx (``0.8333`` as 83.3 %), for a
    rate in a column of mixed values; a column of rates can instead have the
    kind ``RATE``. The CSV writes the fraction."""

    __slots__ = ()


def _local_naive(value: datetime) -> datetime:
    """``value`` in Europe/Stockholm (the current time zone), without tzinfo and
    whole seconds: Excel has no time zones and the CSV shows no fractions."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None, microsecond=0)


def csv_text(value: Any) -> Any:
    """A value as the CSV writes it before ``safe_cell``: datetimes as local time
    to the second (``2026-11-23 14:05:09``), everything else unchanged."""
    if isinstance(value, datetime):
        return _local_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _typed(value: Any, kind: str | None) -> Any:
    """Text in a date column (stored figures hold ISO dates) as a date."""
    if isinstance(value, str) and value:
        try:
            if kind == DATE:
                return date.fromisoformat(value)
            if kind == DATETIME:
                return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _xlsx_cell(sheet, value: Any, kind: str | None) -> WriteOnlyCell | None:
    """One cell: text as a string cell whatever it begins with, never a formula."""
    value = _typed(value, kind)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value=value)
    elif isinstance(value, int | float | Decimal) and math.isfinite(value):
        cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Percent) else value)
        if kind == RATE or isinstance(value, Percent):
            cell.number_format = PERCENT_FORMAT
    elif isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_local_naive(value))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    else:
        # Control characters other than tab and line breaks cannot be stored
        # in the file at all (openpyxl refuses them): dropped.
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell = WriteOnlyCell(sheet, value=text)
        # Assigning the value made text beginning with "=" a formula; this
        # makes it a string cell again, which Excel shows and never runs.
        cell.data_type = "s"
    return cell


def _width(value: Any, kind: str | None) -> int:
    value = _typed(value, kind)
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    if kind == RATE or isinstance(value, Percent):
        return 7
    if value is None:
        return 0
    lines = str(value).splitlines() or [""]
    return max(len(line) for line in lines)


@dataclass
class Sheet:
    """One sheet of a workbook for ``write_workbook``: as ``write_xlsx`` takes it."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Iterable[Any]]
    kinds: Sequence[str | None] | None = None


def write_xlsx(
    file,
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    kinds: Sequence[str | None] | None = None,
    title: str = "",
) -> None:
    """Write ``header`` and ``rows`` to the binary file ``file`` as one .xlsx
    sheet named ``title``. ``kinds`` gives a kind per column (``RATE`` for
    fractions shown as per cent, ``DATE``/``DATETIME`` for ISO text to turn
    into dates). ``rows`` may be a generator: only the first
    ``WIDTH_SAMPLE_ROWS`` rows are held, to size the columns."""
    write_workbook(file, [Sheet(title=title, header=header, rows=rows, kinds=kinds)])


def write_workbook(file, sheets: Iterable[Sheet]) -> None:
    """Write several sheets (an import template and its allowed values) to the
    binary file ``file``, each as ``write_xlsx`` writes one."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    workbook.save(file)


def _write_sheet(workbook: Workbook, spec: Sheet) -> None:
    header = list(spec.header)
    kinds = list(spec.kinds or [])
    kinds += [None] * (len(header) - len(kinds))
    rows = iter(spec.rows)
    sample = [list(row) for row in itertools.islice(rows, WIDTH_SAMPLE_ROWS)]

    sheet = workbook.create_sheet(title=_sheet_title(spec.title))
    widths = [len(str(heading)) for heading in header]
    for row in sample:
        for index, value in enumerate(row):
            kind = kinds[index] if index < len(kinds) else None
            width = _width(value, kind)
            if index < len(widths):
                widths[index] = max(widths[index], width)
            else:
                widths.append(width)
    # Write-only sheets take column widths and panes before the first row.
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"

    bold = Font(bold=True)
    heading_cells = []
    for heading in header:
        cell = _xlsx_cell(sheet, heading, TEXT) or WriteOnlyCell(sheet, value=None)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        heading_cells.append(cell)
    sheet.append(heading_cells)
    for row in itertools.chain(sample, rows):
        sheet.append(
            [
                _xlsx_cell(sheet, value, kinds[index] if index < len(kinds) else None)
                for index, value in enumerate(row)
            ]
        )


def _sheet_title(title: str) -> str:
    """A sheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip(" '")
    return cleaned[:31] or "Data"


def stored_file_download(
    request,
    job,
    file,
    *,
    filename: str,
    content_type: str,
    person_id: int | None = None,
) -> FileResponse:
    """``file`` of a finished ``job`` as a download named ``filename``, logged
    as an export of the job (and of ``person_id``'s data, when given). A 404
    unless the job is done and its file is there."""
    if job.state != job.State.DONE or not file:
        raise Http404
    log_access(action=AccessLogEntry.Action.EXPORT, request=request, obj=job, person_id=person_id)
    return FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )


def download_response(
    fmt: str,
    stem: str,
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    kinds: Sequence[str | None] | None = None,
) -> HttpResponse:
    """A table as a download in ``fmt`` (``"csv"`` or ``"xlsx"``), named
    ``stem.csv`` / ``stem.xlsx``; any other format is a 404.

    CSV: UTF-8 with a BOM, ``;``, cells through ``safe_cell``, rates as
    fractions. XLSX: ``write_xlsx`` (string cells, date cells, per-cent rates,
    a frozen bold header). Both hold the same values.
    """
    if fmt == CSV:
        return csv_response(f"{stem}.csv", header, ([csv_text(v) for v in row] for row in rows))
    if fmt != XLSX:
        raise Http404
    # FileResponse closes the file when the download has been sent.
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    write_xlsx(file, header, rows, kinds=kinds, title=stem)
    file.seek(0)
    return FileResponse(
        file, as_attachment=True, filename=f"{stem}.xlsx", content_type=XLSX_CONTENT_TYPE
    )
