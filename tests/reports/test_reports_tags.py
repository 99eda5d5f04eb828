"""The per-cent filter of reports, dashboards and the board's PDF."""

from decimal import Decimal

import pytest
from django.utils import translation

from reports.templatetags.reports_tags import percent


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (4 / 6, 1, "66,7\u00a0%"),  # was cut to 66,6 %
        (15 / 19, 1, "78,9\u00a0%"),  # Helsingborg with the deceased counted
        (15 / 18, 1, "83,3\u00a0%"),
        (0.8, 0, "80\u00a0%"),
        (0.795, 0, "80\u00a0%"),  # half a per cent rounds up, not to even
        (0.8, 1, "80,0\u00a0%"),
        (1, 1, "100,0\u00a0%"),
        (0, 1, "0,0\u00a0%"),
        (Decimal("0.99996"), 1, "100,0\u00a0%"),
    ],
)
def test_a_rate_is_rounded_to_the_digits_shown_not_cut(value, digits, shown):
    with translation.override("sv"):
        assert percent(value, digits) == shown


def test_no_rate_is_a_dash():
    assert percent(None) == "–"
