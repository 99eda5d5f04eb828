"""The unit manager's retention card on the start page
(``bostadforst.registry.start_page_queues``): today's figure from
``retention.compute`` as the dashboard shows it by default (no horizon, no
filters), against the target, with the figure a quarter earlier for the
trend arrow. Both readings reuse one load of the rows: three queries.

The pair is cached for a few minutes under a key that changes with the
tenancies (their number, the last change, the highest id: one aggregate
query), so the manager's start page does not read every tenancy on each
visit (about 0.35 s at 10,000 people) and never shows a figure older than the
last change to a tenancy, or older than CACHE_SECONDS when rows were changed
in bulk without touching ``updated_at``.
"""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.translation import gettext

from bostadforst.registry import QueueItem
from bostadforst.roles import Role, role_of
from bostadforst.scope import current_limits
from housing.models import Tenancy

from . import data_quality, retention
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


CACHE_SECONDS = 300


_KEPT = ("retention_rate", "cohort", "meets_target")


def now_and_a_quarter_ago(today) -> tuple[dict, dict]:
    """The card's part of ``retention.compute`` today and a quarter earlier."""
    state = Tenancy.objects.order_by().aggregate(
        rows=Count("pk"), changed=Max("updated_at"), last=Max("pk")
    )
    # The viewer's row scope in the key too (bostadforst.scope): a scoped
    # manager's figures are of their people only.
    key = "start-retention:{scope}:{today}:{rows}:{last}:{changed}".format(
        scope=",".join(f"{kind}={value}" for kind, value in current_limits()) or "all",
        today=today.isoformat(),
        rows=state["rows"],
        last=state["last"],
        changed=state["changed"].isoformat() if state["changed"] else "-",
    )
    rates = cache.get(key)
    if rates is None:
        data = retention.load(until=today)
        now = retention.compute(as_of=today, data=data)
        before = retention.compute(as_of=retention.add_months(today, -3), data=data)
        rates = tuple({k: reading[k] for k in _KEPT} for reading in (now, before))
        cache.set(key, rates, CACHE_SECONDS)
    return rates


def reports_queue(*, user, today) -> list[QueueItem]:
    if role_of(user) != Role.UNIT_MANAGER:
        return []
    now, before = now_and_a_quarter_ago(today)
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


def data_quality_queue(*, user, today) -> list[QueueItem]:
    """The unit manager's data-quality card: the rows to correct over every
    rule (``reports.data_quality``, one query a rule, counting only the
    flagged rows), linked to the report with the score."""
    if role_of(user) != Role.UNIT_MANAGER:
        return []
    flagged = sum(r.flagged for r in data_quality.evaluate(user=user, checked=False))
    return [
        QueueItem(
            key="data-quality",
            order=90,
            title=gettext("Data quality"),
            count=flagged,
            explanation=gettext("Records that break a data-quality rule and need correcting."),
            url=reverse("reports:data-quality"),
            link_text=gettext("Data quality: %(count)s to correct") % {"count": flagged},
            alert=flagged > 0,
        )
    ]
