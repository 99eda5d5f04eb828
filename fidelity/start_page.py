"""The unit manager's start-page card: the team's latest fidelity score."""

from django.urls import reverse
from django.utils.translation import gettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of

from . import results, selectors


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def fidelity_queue(*, user, today) -> list[QueueItem]:
    """The latest assessment's overall score and its change from the one
    before, in a fixed number of queries (the two latest, their scores and
    the domains)."""
    if role_of(user) != Role.UNIT_MANAGER:
        return []
    latest = list(selectors.assessment_list(user=user)[:2])
    rows = results.results(latest, selectors.domain_list()) if latest else []
    now = rows[0].result.overall if rows else None
    before = rows[1].result.overall if len(rows) > 1 else None
    trend = ""
    trend_text = ""
    if now is not None and before is not None:
        trend = "up" if now > before + 0.5 else "down" if now < before - 0.5 else "flat"
        trend_text = {
            "up": gettext("Up from %(before)s at the assessment before."),
            "down": gettext("Down from %(before)s at the assessment before."),
            "flat": gettext("Unchanged from the assessment before."),
        }[trend] % {"before": _percent(before)}
    return [
        QueueItem(
            key="fidelity",
            order=15,
            title=gettext("Fidelity to the model"),
            count=len(rows),
            figure=_percent(now),
            explanation=gettext("The team's latest self-assessment on the fidelity scale."),
            detail=(
                gettext("Assessed %(date)s.") % {"date": f"{rows[0].assessment.date:%Y-%m-%d}"}
                if rows
                else gettext("No assessment yet.")
            ),
            trend=trend,
            trend_text=trend_text,
            url=reverse("fidelity:assessment-list"),
            link_text=gettext("Open the fidelity self-assessment"),
        )
    ]
