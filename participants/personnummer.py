"""Swedish personal identity numbers (personnummer) and co-ordination numbers
(samordningsnummer): the single place for the rule.

Forms, the cohort import and the admin all call :func:`normalise`. Accepted
input (surrounding whitespace ignored):

* ``YYYYMMDD-NNNN`` and ``YYYYMMDDNNNN``;
* ``YYMMDD-NNNN`` and ``YYMMDDNNNN`` (the person is younger than 100);
* ``YYMMDD+NNNN`` (the person is 100 or older; Skatteverket's form).

A samordningsnummer has 60 added to the day of birth. The date must be a real
calendar date, not in the future and not more than ``MAX_AGE_YEARS`` back; the
birth number (serial) is never 000; the last digit is the Luhn check digit over
the ten digits YYMMDDNNN. The result is always 12 digits, ``YYYYMMDDNNNN``.

The two century digits of the 12-digit form carry no checksum (the check digit
covers only YYMMDDNNN), so a typing error there can only be caught by the
plausibility of the date: a date in the future or an age above
``MAX_AGE_YEARS``. ``tests/participants/test_personnummer.py`` pins which
corruptions are caught.

The ``personnummer`` package is used only as a cross-check in the tests: it
takes the 12-digit form with ``+``, does not refuse future dates and reads the
clock itself, which this module must not do (``today`` is a parameter).
"""

import random
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# No living person is older: an older date is a typing error in the century.
MAX_AGE_YEARS = 120
COORDINATION_OFFSET = 60

_LONG = re.compile(r"^(?P<century>\d{2})(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})-?(?P<tail>\d{4})$")
_SHORT = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<sep>[-+]?)(?P<tail>\d{4})$")

ERROR_MESSAGES = {
    "required": _("Enter a personal identity number."),
    "format": _(
        "Enter the personal identity number as YYYYMMDD-NNNN, YYMMDD-NNNN or, for a person "
        "aged 100 or more, YYMMDD+NNNN."
    ),
    "date": _("The personal identity number does not contain a real date of birth."),
    "future": _("The date of birth in the personal identity number is in the future."),
    "too_old": _(
        "The date of birth in the personal identity number is more than %(years)s years ago: "
        "check the year."
    ),
    "serial": _("The birth number (the three digits before the check digit) cannot be 000."),
    "checksum": _(
        "The check digit (the last digit) does not match the rest of the number: "
        "check the number for typing errors."
    ),
}


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit for ``digits`` (YYMMDDNNN, nine digits)."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def _error(code: str, **params) -> ValidationError:
    message = ERROR_MESSAGES[code]
    return ValidationError(message, code=code, params=params or None)


def _century_for_short(yy: int, mm: int, dd: int, sep: str, today: date) -> int:
    """The full year of a 10-digit number: the latest year ending in ``yy`` whose
    birthday is not after ``today`` (younger than 100), or 100 years earlier
    for ``+``."""
    year = today.year - ((today.year - yy) % 100)
    if (year, mm, dd) > (today.year, today.month, today.day):
        year -= 100
    if sep == "+":
        year -= 100
    return year


def normalise(value: str, today: date | None = None) -> str:
    """Validate a personnummer or samordningsnummer and return its 12 digits.

    ``today`` decides the century of the 10-digit forms and what counts as a
    future date; it defaults to the local date. Raises ``ValidationError``
    with one of the codes of ``ERROR_MESSAGES``.
    """
    if today is None:
        today = timezone.localdate()
    text = (value or "").strip()
    if not text:
        raise _error("required")
    if match := _LONG.match(text):
        year = int(match["century"] + match["yy"])
    elif match := _SHORT.match(text):
        year = None
    else:
        raise _error("format")
    yy, mm, dd, tail = match["yy"], int(match["mm"]), int(match["dd"]), match["tail"]
    birth_day = dd - COORDINATION_OFFSET if dd > COORDINATION_OFFSET else dd
    if year is None:
        year = _century_for_short(int(yy), mm, birth_day, match["sep"], today)
    try:
        born = date(year, mm, birth_day)
    except ValueError:
        raise _error("date") from None
    if born > today:
        raise _error("future")
    if today.year - born.year - ((today.month, today.day) < (born.month, born.day)) > (
        MAX_AGE_YEARS
    ):
        raise _error("too_old", years=MAX_AGE_YEARS)
    if tail[:3] == "000":
        raise _error("serial")
    body = f"{yy}{match['mm']}{match['dd']}{tail[:3]}"
    if luhn_check_digit(body) != int(tail[3]):
        raise _error("checksum")
    return f"{year:04d}{match['mm']}{match['dd']}{tail}"


def birth_date(normalised: str) -> date:
    """The date of birth in a normalised (12-digit) number."""
    day = int(normalised[6:8])
    if day > COORDINATION_OFFSET:
        day -= COORDINATION_OFFSET
    return date(int(normalised[:4]), int(normalised[4:6]), day)


def legal_sex(normalised: str) -> str:
    """``"female"`` or ``"male"``: the legal sex the population register gives a
    normalised (12-digit) number, in the birth number's last digit (the
    number's eleventh), even for women and odd for men (Skatteverket)."""
    return "male" if int(normalised[10]) % 2 else "female"


def is_coordination_number(normalised: str) -> bool:
    return int(normalised[6:8]) > COORDINATION_OFFSET


def mask(normalised: str | None) -> str:
    """YYYYMMDD-**** : the form shown everywhere but the person's own page."""
    if not normalised:
        return ""
    return f"{normalised[:8]}-****"


def generate(
    rng: random.Random,
    *,
    born_from: date = date(1960, 1, 1),
    born_to: date = date(1999, 12, 31),
    coordination: bool = False,
) -> str:
    """A made-up number (12 digits) with a valid check digit, for demo data and
    test factories, born between ``born_from`` and ``born_to``.

    Drawn at random, never taken from a register; the serial comes from
    900–999 (before 1990 the birth-county range for people born abroad), so a
    collision with a real person's number is unlikely, though any number with a
    valid check digit could in principle be someone's.
    """
    span = (born_to - born_from).days
    born = date.fromordinal(born_from.toordinal() + rng.randint(0, span))
    day = born.day + (COORDINATION_OFFSET if coordination else 0)
    serial = rng.randint(900, 999)
    body = f"{born:%y%m}{day:02d}{serial:03d}"
    return f"{born.year:04d}{born:%m}{day:02d}{serial:03d}{luhn_check_digit(body)}"
