"""The data-quality report (``reports.data_quality``): the page with each
rule's count and the score over time, and the list of the rows breaking one
rule. Unit managers only (``bostadforst.permissions.ACCESS_TABLE``)."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from bostadforst.records import record_read_many
from bostadforst.scope import current_limits

from . import data_quality
from .charts import line_chart
from .models import DataQualitySnapshot

# The chart shows the latest snapshot of each of the last CHART_WEEKS weeks.
CHART_WEEKS = 8
ROWS_PER_PAGE = 50


def score_points(snapshots, *, today: datetime.date) -> list[dict]:
    """The latest snapshot of each of the CHART_WEEKS weeks up to ``today``
    (oldest first), as points for ``charts.line_chart``; a week without one
    is left out."""
    latest: dict[int, DataQualitySnapshot] = {}
    for snapshot in snapshots:
        week = (today - snapshot.day).days // 7
        if 0 <= week < CHART_WEEKS and (week not in latest or snapshot.day > latest[week].day):
            latest[week] = snapshot
    return [
        {"label": f"{latest[week].day:%Y-%m-%d}", "score": latest[week].score}
        for week in sorted(latest, reverse=True)
    ]


class DataQualityView(TemplateView):
    template_name = "reports/data_quality.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        results = data_quality.evaluate(user=self.request.user)
        snapshots = DataQualitySnapshot.objects.filter(
            day__gt=today - datetime.timedelta(days=7 * CHART_WEEKS), day__lte=today
        )
        if current_limits():
            # The weekly snapshots score everyone: not shown within a row scope.
            snapshots = snapshots.none()
        points = score_points(snapshots, today=today)
        score = data_quality.score(results)
        context.update(
            results=results,
            score=None if score is None else round(100 * score, 1),
            checked=sum(r.checked for r in results),
            flagged=sum(r.flagged for r in results),
            database_enforced=data_quality.DATABASE_ENFORCED,
            chart=line_chart(
                points,
                value_key="score",
                title=_("Data-quality score over time"),
                desc=_("The score at the end of each of the last %(weeks)s weeks.")
                % {"weeks": CHART_WEEKS},
            )
            if points
            else None,
        )
        return context


class DataQualityRuleView(TemplateView):
    """The rows breaking one rule, exactly those its count counts; each
    links to its own page. Showing them is a read of every person they show."""

    template_name = "reports/data_quality_rule.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rule = data_quality.RULES_BY_NAME.get(self.kwargs["rule"])
        if rule is None:
            raise Http404
        rows = data_quality.flagged_rows(rule, user=self.request.user)
        page = Paginator(rows, ROWS_PER_PAGE).get_page(self.request.GET.get("page"))
        record_read_many(self.request, page.object_list)
        context.update(
            rule=rule,
            page=page,
            rows=[
                {
                    "name": rule.describe(row),
                    "url": reverse(rule.detail, kwargs={"pk": row.pk}),
                    "participant": getattr(row, "participant", None),
                }
                for row in page.object_list
            ],
        )
        return context
