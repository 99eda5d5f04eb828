"""Formatting of report figures: rates as per cent with the locale's decimal sign."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.8333 → "83,3 %" (Swedish) or "83.3 %"; None → "–" (no rate)."""
    if value is None or value == "":
        return "–"
    return f"{number_format(float(value) * 100, int(digits))}\u00a0%"


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
