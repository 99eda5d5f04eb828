"""Charts as server-rendered SVG: no JavaScript, no CDN, the same markup on
screen, in print and in the PDF (WeasyPrint draws inline SVG).

Every chart carries a ``<title>`` and ``<desc>`` for screen readers and is
shown next to a table with the same numbers. Colour is never the only carrier
of meaning: the target is a dashed, labelled line, and values are printed.
Every text that reaches the markup goes through ``escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

INK = "#1f2937"
LINE = "#0a3d62"
GRID = "#d1d5db"
TARGET = "#9b1c1c"
BAR = "#2563a6"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

_ids = count(1)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _open(width: int, height: int, title: str, desc: str) -> tuple[list[str], str]:
    uid = f"chart{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bf-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return parts, uid


def _text(x: float, y: float, content, *, anchor: str = "", size: int = 11, fill: str = INK) -> str:
    """One SVG text; ``content`` is always escaped, so no caller can forget it."""
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}"{anchor_attr} font-size="{size}" fill="{fill}" {FONT}>'
        f"{escape(content)}</text>"
    )


def _close(parts: list[str]) -> SafeString:
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text goes through _text or escape)


def _y_axis(parts: list[str], *, left: int, right: int, top: int, bottom: int) -> None:
    for pct in (0, 25, 50, 75, 100):
        y = bottom - (bottom - top) * pct / 100
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, f"{pct} %", anchor="end"))


def _target_line(
    parts: list[str], target: float, label: str, *, left: int, right: int, top: int, bottom: int
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
) -> SafeString:
    """A line over labelled points (e.g. quarters) on a 0–100 % axis; ``None`` values leave gaps."""
    # Room on the right for the last quarter's label, on top for the target's.
    left, right, top, bottom = 48, width - 36, 24, height - 36
    parts, _ = _open(width, height, title, desc)
    _y_axis(parts, left=left, right=right, top=top, bottom=bottom)
    n = len(points)
    step = (right - left) / max(n - 1, 1)
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, point in enumerate(points):
        x = left + step * i if n > 1 else (left + right) / 2
        parts.append(_text(x, bottom + 18, point.get("label", ""), anchor="middle"))
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
    return _close(parts)


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
) -> SafeString:
    """A Kaplan–Meier step curve: x in months, y the share on a 0–100 % axis."""
    left, right, top, bottom = 48, width - 12, 16, height - 40
    parts, _ = _open(width, height, title, desc)
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
    parts.append(_text((left + right) / 2, height - 6, x_label, anchor="middle"))
    return _close(parts)


def bar_chart(
    rows: Sequence[tuple[str, float | None, int]],
    *,
    title: str,
    desc: str,
    target: float | None = None,
    target_label: str = "",
    width: int = 640,
) -> SafeString:
    """Horizontal bars, one per (label, rate, cohort); the rate and n are printed."""
    bar_h, gap, label_w = 20, 8, 190
    left, right, top = label_w, width - 90, 8
    height = top + len(rows) * (bar_h + gap) + 24
    bottom = height - 20
    parts, _ = _open(width, height, title, desc)
    for pct in (0, 50, 100):
        x = left + (right - left) * pct / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>'
            + _text(x, height - 5, f"{pct} %", anchor="middle")
        )
    for i, (label, rate, n) in enumerate(rows):
        y = top + i * (bar_h + gap)
        text = str(label)
        if len(text) > 28:
            text = text[:27] + "…"
        parts.append(_text(left - 6, y + bar_h - 5, text, anchor="end"))
        if rate is not None:
            w = (right - left) * rate
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAR}"/>'
            )
        parts.append(_text(right + 6, y + bar_h - 5, f"{_percent(rate)} (n={n})"))
    if target is not None:
        x = left + (right - left) * target
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="{TARGET}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(_text(x + 4, bottom, target_label, size=10, fill=TARGET))
    return _close(parts)
