"""Results pages' figures: per-assessment results and the charts over time."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from reports.charts import Chart, bar_chart

from .scoring import AssessmentResult, assessment_result

# The chart over time shows the latest assessments; the table below it, all
# of the page's.
CHART_ASSESSMENTS = 8


@dataclass(frozen=True)
class Row:
    assessment: object
    result: AssessmentResult


def results(assessments, domains) -> list[Row]:
    """Each assessment (scores prefetched) with its results, in the given order."""
    return [Row(assessment=a, result=assessment_result(a, domains)) for a in assessments]


def _rate(percent: float | None) -> float | None:
    return None if percent is None else percent / 100


def charts_over_time(rows: list[Row], domains) -> list[tuple[str, Chart]]:
    """One bar chart per domain and one of the overall score: a bar per
    assessment (the latest ``CHART_ASSESSMENTS``, oldest first), n being the
    number of items scored. Each chart's text alternative states every bar."""
    recent = sorted(rows, key=lambda r: r.assessment.date)[-CHART_ASSESSMENTS:]
    charts = []
    overall = bar_chart(
        [
            (
                f"{r.assessment.date:%Y-%m-%d}",
                _rate(r.result.overall),
                sum(d.items for d in r.result.domains),
            )
            for r in recent
        ],
        title=_("Overall fidelity score"),
        desc=_("Overall score per assessment, the mean of the domain scores; n is items scored."),
    )
    charts.append((_("Overall fidelity score"), overall))
    for index, domain in enumerate(domains):
        bars = []
        for r in recent:
            result = r.result.domains[index]
            bars.append((f"{r.assessment.date:%Y-%m-%d}", _rate(result.percent), result.items))
        charts.append(
            (
                domain.name,
                bar_chart(
                    bars,
                    title=domain.name,
                    desc=_("Domain score per assessment; n is items scored."),
                ),
            )
        )
    return charts


def single_chart(row: Row) -> Chart:
    """One assessment's domain scores as bars."""
    return bar_chart(
        [(d.domain.name, _rate(d.percent), d.items) for d in row.result.domains],
        title=_("Score per domain, %(date)s") % {"date": f"{row.assessment.date:%Y-%m-%d}"},
        desc=_("Each domain's score in percent; n is items scored."),
    )
