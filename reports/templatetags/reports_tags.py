"""Formatting of report figures: rates as per cent with the locale's decimal sign."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.8333 → "83,3 %" (Swedish) or "83.3 %"; None → "–" (no rate).

    Rounded half up to ``digits`` first: ``number_format`` cuts a float's
    decimals off (2/3 would show as 66,6 %). Through the value's shortest
    decimal form, so 0.795 is 79.5 % and rounds to 80 %.
    """
    if value is None or value == "":
        return "–"
    digits = int(digits)
    rate = (Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{number_format(rate, digits)}\u00a0%"


@register.filter
def cell(pair):
    """One table cell from a (value, kind) pair."""
    value, kind = pair
    if kind == "mixed":
        value, kind = value
    if kind == "rate":
        return percent(value)
    if kind == "link":
        text, url = value
        return format_html('<a href="{}">{}</a>', url, text) if url else text
    if kind == "bool":
        return _("yes") if value else _("no")
    if value is None:
        return "–"
    return value


@register.filter
def numeric(kind) -> bool:
    return kind in ("int", "rate")
