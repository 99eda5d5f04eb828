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
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
DELIMITER = ";"

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
