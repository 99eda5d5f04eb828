"""Charts as server-rendered SVG: no JavaScript, no CDN, the same markup on
screen, in print and in the PDF (WeasyPrint draws inline SVG).

Every chart carries a ``<title>`` and a ``<desc>`` that states what it shows
with its key figures (``Chart.alt``), and is shown next to a table with the
same numbers. Colour is never the only carrier of meaning: the target is a
dashed, labelled line, and values are printed. Every text that reaches the
markup goes through ``escape``.

Labels are never cut: a label wider than its room is wrapped over lines
(``wrap``), and the layout grows to hold them. Widths are estimated from
DejaVu Sans' advance widths, rounded up per class of character, so an
estimate is never narrower than the text WeasyPrint or a browser draws in
that font (the widest of the two the charts name).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

INK = "#1f2937"
LINE = "#0a3d62"
GRID = "#d1d5db"
TARGET = "#9b1c1c"
BAR = "#2563a6"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

LINE_HEIGHT = 1.3  # of the font size, between wrapped lines

# DejaVu Sans advance widths in em, rounded up to the widest of each class.
_NARROW = frozenset("ijlIJ'.,:;/!|()[]{}ft -")
_WIDE = frozenset("mwMW%@&=+")
_EM_NARROW, _EM_DEFAULT, _EM_UPPER, _EM_WIDE = 0.40, 0.64, 0.80, 1.0

_ids = count(1)


def text_width(text: str, size: float) -> float:
    """An upper bound of ``text``'s width in px at font size ``size`` (DejaVu Sans)."""
    total = 0.0
    for char in text:
        if char in _NARROW:
            total += _EM_NARROW
        elif char in _WIDE:
            total += _EM_WIDE
        elif char.isupper():
            total += _EM_UPPER
        else:
            total += _EM_DEFAULT
    return total * size


def wrap(text: str, width: float, *, size: float = 11) -> list[str]:
    """``text`` over as many lines as it takes to keep each within ``width`` px.

    Lines break between words; a word wider than a whole line (a long name
    without spaces) is split over lines, never shortened, so every character
    of the label is drawn.
    """
    lines: list[str] = []
    line = ""
    for word in str(text).split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        while text_width(word, size) > width:
            cut = 1
            while cut < len(word) and text_width(word[: cut + 1], size) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the text that stands for it where the picture cannot.

    On a page the chart is its inline SVG (``{{ chart }}``), read out through
    its ``<title>`` and ``<desc>``. The PDF uses ``as_img``: WeasyPrint gives
    an inline SVG's Figure only its ``<title>`` as /Alt, an ``<img>`` its full
    ``alt`` (what the chart shows and its key figures).
    """

    svg: SafeString
    alt: str
    width: int
    height: int

    def __html__(self) -> SafeString:
        return self.svg

    def __str__(self) -> str:
        return str(self.svg)

    def as_img(self) -> SafeString:
        """The chart as an ``<img>`` with a ``data:`` URL and the full text alternative."""
        data = base64.b64encode(self.svg.encode()).decode("ascii")
        return format_html(
            '<img class="bf-chart" src="data:image/svg+xml;base64,{}" alt="{}" '
            'width="{}" height="{}">',
            data,
            self.alt,
            self.width,
            self.height,
        )


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _alt(title: str, desc: str, figures: str) -> str:
    """The text alternative: title, what the chart shows, its key figures."""
    return " ".join(part.strip() for part in (f"{title}.", desc, figures) if part.strip())


def _open(width: int, height: int, title: str, desc: str) -> list[str]:
    uid = f"chart{next(_ids)}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bf-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, content, *, anchor: str = "", size: int = 11, fill: str = INK) -> str:
    """One SVG text; ``content`` is always escaped, so no caller can forget it."""
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}"{anchor_attr} font-size="{size}" fill="{fill}" {FONT}>'
        f"{escape(content)}</text>"
    )


def _lines(
    x: float, y: float, lines: Sequence[str], *, anchor: str = "", size: int = 11
) -> list[str]:
    """Wrapped lines, the first baseline at ``y``, one text element per line."""
    step = size * LINE_HEIGHT
    return [_text(x, y + i * step, line, anchor=anchor, size=size) for i, line in enumerate(lines)]


def _chart(
    parts: list[str], *, title: str, desc: str, figures: str, width: int, height: int
) -> Chart:
    alt = _alt(title, desc, figures)
    parts = [*_open(width, height, title, f"{desc} {figures}".strip()), *parts, "</svg>"]
    svg = mark_safe("".join(parts))  # noqa: S308 (every text goes through _text or escape)
    return Chart(svg=svg, alt=alt, width=width, height=height)


def _y_axis(parts: list[str], *, left: int, right: int, top: int, bottom: float) -> None:
    for pct in (0, 25, 50, 75, 100):
        y = bottom - (bottom - top) * pct / 100
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, f"{pct} %", anchor="end"))


def _target_line(
    parts: list[str], target: float, label: str, *, left: int, right: int, top: int, bottom: float
) -> None:
    y = bottom - (bottom - top) * target
    parts.append(
        f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{TARGET}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    # Below the line at the left, where the data labels (above the points) are not.
    parts.append(_text(left + 4, y + 14, label, fill=TARGET))


def line_chart(
    points: Sequence[dict],
    *,
    value_key: str,
    title: str,
    desc: str,
    target: float | None = None,
    target_label: str = "",
    width: int = 640,
    height: int = 260,
) -> Chart:
    """A line over labelled points (e.g. quarters) on a 0–100 % axis; ``None`` values leave gaps.

    A point's label wraps within its share of the axis (and the margin at
    either end); the chart grows by the extra lines.
    """
    # Room on the right for the last quarter's label, on top for the target's.
    left, right, top = 48, width - 36, 24
    n = len(points)
    step = (right - left) / max(n - 1, 1)
    xs = [left + step * i if n > 1 else (left + right) / 2 for i in range(n)]
    labels = [
        wrap(point.get("label", ""), min(step, 2 * x, 2 * (width - x)) - 4)
        for point, x in zip(points, xs, strict=True)
    ]
    extra = (max((len(lines) for lines in labels), default=1) - 1) * 11 * LINE_HEIGHT
    height = math.ceil(height + extra)
    bottom = height - 36 - extra
    parts: list[str] = []
    _y_axis(parts, left=left, right=right, top=top, bottom=bottom)
    segment: list[str] = []
    segments: list[list[str]] = []
    for point, x, lines in zip(points, xs, labels, strict=True):
        parts.extend(_lines(x, bottom + 18, lines, anchor="middle"))
        value = point.get(value_key)
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = bottom - (bottom - top) * value
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}"/>')
        parts.append(_text(x, y - 8, _percent(value), anchor="middle", size=10))
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{LINE}" stroke-width="2.5" '
                f'points="{" ".join(seg)}"/>'
            )
    if target is not None:
        _target_line(parts, target, target_label, left=left, right=right, top=top, bottom=bottom)
    figures = _line_figures(points, value_key)
    if target is not None:
        figures = f"{figures} {target_label}."
    return _chart(parts, title=title, desc=desc, figures=figures, width=width, height=height)


def _line_figures(points: Sequence[dict], value_key: str) -> str:
    values = [
        (str(p.get("label", "")), p[value_key]) for p in points if p.get(value_key) is not None
    ]
    if not values:
        return _("No values.")
    (first_label, first), (last_label, last) = values[0], values[-1]
    low_label, low = min(values, key=lambda v: v[1])
    high_label, high = max(values, key=lambda v: v[1])
    return _(
        "From %(first)s in %(first_label)s to %(last)s in %(last_label)s; "
        "lowest %(low)s in %(low_label)s, highest %(high)s in %(high_label)s."
    ) % {
        "first": _percent(first),
        "first_label": first_label,
        "last": _percent(last),
        "last_label": last_label,
        "low": _percent(low),
        "low_label": low_label,
        "high": _percent(high),
        "high_label": high_label,
    }


def step_chart(
    points: Sequence[dict],
    *,
    value_key: str = "survival",
    x_key: str = "month",
    title: str,
    desc: str,
    x_label: str = "",
    width: int = 640,
    height: int = 260,
) -> Chart:
    """A Kaplan–Meier step curve: x in months, y the share on a 0–100 % axis."""
    left, right, top = 48, width - 12, 16
    axis_label = wrap(x_label, width - 16)
    extra = (len(axis_label) - 1) * 11 * LINE_HEIGHT
    height = math.ceil(height + extra)
    bottom = height - 40 - extra
    parts: list[str] = []
    _y_axis(parts, left=left, right=right, top=top, bottom=bottom)
    if points:
        last = max(p[x_key] for p in points) + 1
        scale = (right - left) / last
        # Axis ticks every 6, 12 or 24 months, whichever keeps labels apart.
        tick = 6 if last <= 36 else 12 if last <= 96 else 24
        for month in range(0, last + 1, tick):
            x = left + month * scale
            parts.append(_text(x, bottom + 16, month, anchor="middle"))
        coords = [f"{left:.1f},{top:.1f}"]
        previous = 1.0
        for point in points:
            x_end = left + (point[x_key] + 1) * scale
            y_prev = bottom - (bottom - top) * previous
            y_new = bottom - (bottom - top) * point[value_key]
            coords.append(f"{x_end:.1f},{y_prev:.1f}")
            coords.append(f"{x_end:.1f},{y_new:.1f}")
            previous = point[value_key]
        parts.append(
            f'<polyline fill="none" stroke="{LINE}" stroke-width="2.5" '
            f'points="{" ".join(coords)}"/>'
        )
        y_last = bottom - (bottom - top) * previous - 6
        parts.append(_text(right, y_last, _percent(previous), anchor="end"))
    parts.extend(_lines(width / 2, bottom + 34, axis_label, anchor="middle"))
    figures = _step_figures(points, value_key, x_key)
    return _chart(parts, title=title, desc=desc, figures=figures, width=width, height=height)


def _step_figures(points: Sequence[dict], value_key: str, x_key: str) -> str:
    """The share at the end of every year of the curve and at its end."""
    if not points:
        return _("No values.")
    marks = [p for p in points if (p[x_key] + 1) % 12 == 0]
    if not marks or marks[-1] is not points[-1]:
        marks.append(points[-1])
    items = []
    for point in marks:
        months = point[x_key] + 1
        items.append(
            ngettext(
                "after %(months)s month: %(share)s", "after %(months)s months: %(share)s", months
            )
            % {"months": months, "share": _percent(point[value_key])}
        )
    return "; ".join(items) + "."


def bar_chart(
    rows: Sequence[tuple[str, float | None, int]],
    *,
    title: str,
    desc: str,
    target: float | None = None,
    target_label: str = "",
    width: int = 640,
) -> Chart:
    """Horizontal bars, one per (label, rate, cohort); the rate and n are printed.

    Each label stands above its bar across the chart's whole width, wrapped
    over as many lines as it needs; the grid and the target are drawn beside
    the bars only, so no line crosses a label.
    """
    size, bar_h, gap, pad = 11, 18, 10, 16
    left, right = pad, width - 112  # room on the right for "100 % (n=1000)"
    line_step = size * LINE_HEIGHT
    parts: list[str] = []
    y = 8.0
    for label, rate, n in rows:
        lines = wrap(label, width - left - 8, size=size)
        parts.extend(_lines(left, y + size, lines, size=size))
        bar_y = y + len(lines) * line_step + 3
        for pct in (0, 50, 100):
            x = left + (right - left) * pct / 100
            parts.append(
                f'<line x1="{x:.1f}" y1="{bar_y - 2:.1f}" x2="{x:.1f}" '
                f'y2="{bar_y + bar_h + 2:.1f}" stroke="{GRID}"/>'
            )
        if rate is not None:
            w = (right - left) * rate
            parts.append(
                f'<rect x="{left}" y="{bar_y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{BAR}"/>'
            )
        parts.append(_text(right + 6, bar_y + bar_h - 5, f"{_percent(rate)} (n={n})"))
        if target is not None:
            x = left + (right - left) * target
            parts.append(
                f'<line x1="{x:.1f}" y1="{bar_y - 3:.1f}" x2="{x:.1f}" '
                f'y2="{bar_y + bar_h + 3:.1f}" stroke="{TARGET}" stroke-width="2" '
                'stroke-dasharray="4 3"/>'
            )
        y = bar_y + bar_h + gap
    for pct in (0, 50, 100):
        x = left + (right - left) * pct / 100
        parts.append(_text(x, y + 8, f"{pct} %", anchor="middle"))
    height = y + 14
    if target is not None:
        x = left + (right - left) * target
        anchor = "end" if x > width / 2 else "start"
        parts.append(_text(x, y + 28, target_label, anchor=anchor, size=10, fill=TARGET))
        height = y + 34
    figures = "; ".join(
        _("%(label)s: %(rate)s (n=%(n)s)") % {"label": label, "rate": _percent(rate), "n": n}
        for label, rate, n in rows
    )
    figures = f"{figures}." if figures else _("No values.")
    if target is not None:
        figures = f"{figures} {target_label}."
    return _chart(
        parts, title=title, desc=desc, figures=figures, width=width, height=math.ceil(height)
    )
