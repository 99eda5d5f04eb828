"""The unit manager's retention card on the start page
(``bostadforst.registry.start_page_queues``): today's figure from
``retention.compute`` as the dashboard shows it by default (no horizon, no
filters), against the target, with the figure a quarter earlier for the
trend arrow. Both readings reuse one load of the rows: three queries.
"""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of

from . import retention
from .templatetags.reports_tags import percent


def trend_of(now: float | None, before: float | None) -> str:
    """ "up", "down" or "flat" from the earlier rate to today's; "" when
    either has no denominator."""
    if now is None or before is None:
        return ""
    if now > before:
        return "up"
    if now < before:
        return "down"
    return "flat"


def reports_queue(*, user, today) -> list[QueueItem]:
    if role_of(user) != Role.UNIT_MANAGER:
        return []
    data = retention.load(until=today)
    now = retention.compute(as_of=today, data=data)
    before = retention.compute(as_of=retention.add_months(today, -3), data=data)
    rate, earlier = now["retention_rate"], before["retention_rate"]
    trend = trend_of(rate, earlier)
    target = percent(settings.RETENTION_TARGET, 0)
    texts = {
        "up": gettext("Up from %(before)s a quarter ago."),
        "down": gettext("Down from %(before)s a quarter ago."),
        "flat": gettext("Unchanged from a quarter ago."),
    }
    return [
        QueueItem(
            key="retention",
            order=10,
            title=gettext("Housing retention"),
            count=now["cohort"],
            figure=percent(rate),
            explanation=gettext(
                "Tenants still housed or moved on, of everyone housed (deceased left out); "
                "the target is %(target)s."
            )
            % {"target": target},
            detail=(
                gettext("Below the target.")
                if rate is not None and not now["meets_target"]
                else gettext("At or above the target.")
                if rate is not None
                else gettext("Nobody housed yet.")
            ),
            trend=trend,
            trend_text=texts[trend] % {"before": percent(earlier)} if trend else "",
            url=reverse("reports:dashboard"),
            link_text=gettext("Open the retention dashboard"),
            alert=rate is not None and not now["meets_target"],
        )
    ]
