"""The one Kaplan–Meier estimator of the reports: tenancy survival, waiting
time from approval to move-in and time to a first-hand contract all turn
their spells into a curve here, so the three curves are estimated alike.

A spell is ``(days, event)``: how many days a person was followed, and
whether the event ended the follow-up (``False``: censored). Time is counted
in whole months of average length (``MONTH_DAYS``): a spell of d days ends in
month ``int(d / MONTH_DAYS)``. Within a month, events are taken before
censorings (the usual convention when both fall in the same interval).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# An average calendar month in days, for the curves' month axis.
MONTH_DAYS = 365.2425 / 12


def kaplan_meier(spells: Iterable[tuple[int, bool]]) -> list[dict[str, Any]]:
    """The product-limit estimate of the share without the event, per month.

    Returns one point per whole month from 0 to the month of the longest
    spell: ``month``, ``at_risk`` (still followed at the start of the month),
    ``events`` and ``censored`` (during it) and ``survival`` (the share
    without the event at the end of it, 4 decimals). No spells, no points.
    """
    months: list[tuple[int, bool]] = [(int(days / MONTH_DAYS), event) for days, event in spells]
    if not months:
        return []
    last_month = max(month for month, _event in months)
    events = [0] * (last_month + 1)
    censored = [0] * (last_month + 1)
    for month, event in months:
        if event:
            events[month] += 1
        else:
            censored[month] += 1
    points = []
    at_risk = len(months)
    share = 1.0
    for month in range(last_month + 1):
        if at_risk:
            share *= 1 - events[month] / at_risk
        points.append(
            {
                "month": month,
                "at_risk": at_risk,
                "events": events[month],
                "censored": censored[month],
                "survival": round(share, 4),
            }
        )
        at_risk -= events[month] + censored[month]
    return points


def median_month(points: list[dict]) -> int | None:
    """The first month at whose end half or fewer are without the event
    (``None`` if the curve never gets there)."""
    for point in points:
        if point["survival"] <= 0.5:
            return point["month"]
    return None
