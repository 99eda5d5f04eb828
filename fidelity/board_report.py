"""The team's fidelity score in the board report (issue 18: "beside retention,
the outcomes, the waiting and takeover times and the team's fidelity score").

``reports`` sits to the left of this app and may not import it, so the score
reaches the report through ``bostadforst.registry.board_report_sources``
(registered in ``FidelityConfig.ready``). The section holds the scores only:
never the comments written with them, nor who took part.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext, pgettext

from bostadforst.registry import BoardSection

from . import selectors
from .scoring import assessment_result


def _rate(percent: float | None) -> float | None:
    return None if percent is None else percent / 100


def fidelity_section(*, as_of: date) -> BoardSection:
    """The latest self-assessment on or before ``as_of``: the overall score and
    each domain's, with the number of items scored (three queries; one when
    there is no assessment)."""
    title = gettext("The team's fidelity to the model")
    columns = [
        (gettext("Domain"), "text"),
        # "Score" alone is a quality register's word in the reports catalog.
        (pgettext("fidelity", "Score"), "rate"),
        (gettext("Items scored"), "int"),
    ]
    assessment = selectors.assessment_latest(on_or_before=as_of)
    if assessment is None:
        return BoardSection(
            key="fidelity",
            order=10,
            title=title,
            lead=gettext("No fidelity self-assessment on or before the reference date."),
            columns=columns,
            rows=[],
        )
    result = assessment_result(assessment, selectors.domain_list())
    rows = [[d.domain.name, _rate(d.percent), d.items] for d in result.domains]
    rows.append(
        [
            gettext("Overall (the mean of the domains)"),
            _rate(result.overall),
            sum(d.items for d in result.domains),
        ]
    )
    overall = "–" if result.overall is None else f"{result.overall:.0f} %"
    return BoardSection(
        key="fidelity",
        order=10,
        title=title,
        lead=gettext(
            "The team's latest self-assessment on the fidelity scale on or before the "
            "reference date, made %(date)s: %(overall)s overall."
        )
        % {"date": assessment.date.isoformat(), "overall": overall},
        columns=columns,
        rows=rows,
        caption=gettext(
            "Score per domain of the self-assessment of %(date)s. Each item's score is scaled "
            "to 0–100 %% on its own scale; a domain's score is the mean of its items, the "
            "overall score the mean of the domains."
        )
        % {"date": assessment.date.isoformat()},
    )
