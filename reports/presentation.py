"""Turning computed figures into tables and charts, the same for the
dashboard, the stored report page, the PDF and the CSV downloads.

A ``Table`` holds raw values with a kind per column; templates format them
(rates as per cent with a decimal comma), CSV writes them raw (rates as
fractions with four decimals), so a download equals what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from housing.models import ContractType, Landlord, Provider
from participants.models import ReferringUnit, TargetGroupCode

from . import charts
from .kaplan_meier import median_month
from .retention import NO_PROVIDER, NO_TARGET_GROUP, NO_UNIT

INT, RATE, TEXT, DATE, BOOL = "int", "rate", "text", "date", "bool"

BREAKDOWN_TITLES = {
    "landlord": gettext_lazy("By landlord (of the first tenancy)"),
    "contract_type": gettext_lazy("By contract type (of the first tenancy)"),
    "move_in_year": gettext_lazy("By year of first move-in"),
    "target_group": gettext_lazy("By target group"),
    "referring_unit": gettext_lazy("By referring unit (of the first approved referral)"),
    "provider": gettext_lazy("By provider (of the first tenancy)"),
}


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (heading, kind)
    rows: list[list[Any]] = field(default_factory=list)
    caption: str = ""
    # How many rows there are in all when ``rows`` holds only the first few
    # (a page's bounded list of people); None when ``rows`` is every row.
    total: int | None = None

    @property
    def cut(self) -> bool:
        """Whether ``rows`` holds only the first of more rows."""
        return self.total is not None and self.total > len(self.rows)

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _kind in self.columns]

    @property
    def kinds(self) -> list[str]:
        return [kind for _heading, kind in self.columns]

    def cells(self) -> list[list[tuple[Any, str]]]:
        """Rows as (value, kind) pairs for the template."""
        kinds = self.kinds
        return [list(zip(row, kinds, strict=False)) for row in self.rows]


def group_label(breakdown: str, key: str) -> str:
    if breakdown == "contract_type":
        return str(ContractType(key).label) if key in ContractType.values else key
    if breakdown == "target_group":
        if key == NO_TARGET_GROUP:
            return _("No target group recorded")
        return str(TargetGroupCode(key).label) if key in TargetGroupCode.values else key
    if breakdown == "referring_unit" and key == NO_UNIT:
        return _("No referring unit recorded")
    if breakdown == "provider" and key == NO_PROVIDER:
        return _("No provider recorded")
    return key


def filter_labels(filters: dict) -> list[str]:
    """ "Name: value" for each filter of a report, as the board reads it: the
    landlord, unit and provider by name (one query each that is set), the
    codes by their labels; the orderer's own row scope (``scope_unit`` /
    ``scope_provider``) like a filter by that unit or provider."""
    named = {
        "landlord": (_("Landlord (first tenancy)"), Landlord),
        "unit": (_("Referring unit"), ReferringUnit),
        "scope_unit": (_("Referring unit"), ReferringUnit),
        "provider": (_("Provider"), Provider),
        "scope_provider": (_("Provider"), Provider),
    }
    labels = []
    for key, value in (filters or {}).items():
        if value in ("", None):
            continue
        if key in named:
            title, model = named[key]
            name = model._default_manager.filter(pk=value).values_list("name", flat=True).first()
            labels.append(f"{title}: {name or value}")
        elif key == "contract_type":
            labels.append(f"{_('Contract type (first tenancy)')}: {group_label(key, value)}")
        elif key == "target_group":
            labels.append(f"{_('Target group')}: {group_label(key, value)}")
        elif key == "move_in_year":
            labels.append(f"{_('Year of first move-in')}: {value}")
    return sorted(set(labels), key=labels.index)


def _count_columns() -> list[tuple[str, str]]:
    return [
        (_("Cohort"), INT),
        (pgettext("retention", "Housed"), INT),
        (_("Moved on"), INT),
        (_("Lost the home"), INT),
        (pgettext("retention", "Deceased"), INT),
        (_("Retention"), RATE),
        (_("Retention, deceased counted"), RATE),
        (_("Takeover share"), RATE),
    ]


def _count_cells(c: dict) -> list[Any]:
    return [
        c["cohort"],
        c["housed"],
        c["moved_on"],
        c["lost"],
        c["deceased"],
        c["retention_rate"],
        c["retention_rate_incl_deceased"],
        c["takeover_share"],
    ]


def summary_table(figures: dict) -> Table:
    t = Table("summary", _("Retention"), [(_("Measure"), TEXT), (_("Value"), TEXT)])
    meets = figures["meets_target"]
    t.columns = [(_("Measure"), TEXT), (_("Value"), "mixed")]
    t.rows = [
        [_("Reference date"), (figures["as_of"], DATE)],
        [_("Horizon (months)"), (figures["months"] or _("none"), TEXT)],
        [_("Cohort (moved in)"), (figures["cohort"], INT)],
        [pgettext("retention", "Housed"), (figures["housed"], INT)],
        [pgettext("retention", "Moved on to other permanent housing"), (figures["moved_on"], INT)],
        [_("Lost the home"), (figures["lost"], INT)],
        [pgettext("retention", "Deceased"), (figures["deceased"], INT)],
        [_("Retention (deceased excluded)"), (figures["retention_rate"], RATE)],
        [_("Retention with the deceased counted"), (figures["retention_rate_incl_deceased"], RATE)],
        [_("Target"), (figures["target"], RATE)],
        [
            _("Target met"),
            (_("yes") if meets else _("no") if meets is not None else _("no rate"), TEXT),
        ],
        [_("Takeover share (social contracts)"), (figures["takeover_share"], RATE)],
    ]
    return t


def breakdown_tables(figures: dict) -> list[Table]:
    tables = []
    for name, groups in figures["breakdown"].items():
        t = Table(f"breakdown-{name}", str(BREAKDOWN_TITLES[name]), [(_("Group"), TEXT)])
        t.columns += _count_columns()
        t.rows = [[group_label(name, key), *_count_cells(c)] for key, c in groups.items()]
        tables.append(t)
    return tables


def trend_table(trend: list[dict]) -> Table:
    t = Table("trend", _("Trend by quarter"), [(_("Quarter end"), DATE)] + _count_columns())
    t.rows = [[p["date"], *_count_cells(p)] for p in trend]
    return t


def survival_table(points: list[dict]) -> Table:
    t = Table(
        "survival",
        _("Tenancy survival (Kaplan–Meier)"),
        [
            (_("Months since first move-in"), INT),
            (_("Followed at the start"), INT),
            (_("Homes lost"), INT),
            (_("Censored"), INT),
            (_("Share still housed"), RATE),
        ],
    )
    t.rows = [[p["month"], p["at_risk"], p["events"], p["censored"], p["survival"]] for p in points]
    return t


# The curves beside tenancy survival (``time_to_event``): figures key ->
# (table title, time column, event column, share column).
TIME_TO_EVENT = {
    "waiting": (
        gettext_lazy("Waiting time from approval to move-in (Kaplan–Meier)"),
        gettext_lazy("Months since approval"),
        gettext_lazy("Moved in"),
        gettext_lazy("Share still waiting"),
    ),
    "takeover_time": (
        gettext_lazy("Time to a first-hand contract (Kaplan–Meier)"),
        gettext_lazy("Months since moving in on a social contract"),
        gettext_lazy("Took over the contract"),
        gettext_lazy("Share without a first-hand contract"),
    ),
}
TIME_TO_EVENT_CHARTS = {
    "waiting": (
        gettext_lazy("Share still waiting by months since approval"),
        gettext_lazy(
            "Kaplan–Meier estimate; people still waiting are censored at the reference date, "
            "people who left the programme without moving in at the day their case was closed."
        ),
    ),
    "takeover_time": (
        gettext_lazy("Share without a first-hand contract by months since moving in"),
        gettext_lazy(
            "Kaplan–Meier estimate from moving in on a social contract to taking it over; "
            "people who moved out without taking it over are censored at the move-out."
        ),
    ),
}


def time_to_event_table(key: str, points: list[dict]) -> Table:
    title, months, events, share = TIME_TO_EVENT[key]
    t = Table(
        key.replace("_", "-"),
        str(title),
        [
            (str(months), INT),
            (_("Followed at the start"), INT),
            (str(events), INT),
            (_("Censored"), INT),
            (str(share), RATE),
        ],
    )
    t.rows = [[p["month"], p["at_risk"], p["events"], p["censored"], p["survival"]] for p in points]
    return t


def time_to_event_tables(figures: dict, *, per_year: bool = False) -> list[Table]:
    """The waiting-time and takeover tables (a report stored before they
    existed has neither)."""
    return [
        time_to_event_table(key, yearly(figures[key]) if per_year else figures[key])
        for key in TIME_TO_EVENT
        if key in figures
    ]


def median_sentence(table_key: str, figures: dict) -> str:
    """'Median: n months' for a time-to-event curve, or that half was never reached."""
    key = table_key.replace("-", "_")
    points = figures.get(key) or []
    if not points:
        return ""
    median = median_month(points)
    if median is not None:
        return _("Median: month %(month)s.") % {"month": median}
    if key == "waiting":
        return _("Median not reached: more than half are still waiting.")
    return _("Median not reached: more than half have no first-hand contract yet.")


def figure_charts(figures: dict) -> dict[str, Any]:
    """The SVG charts for stored figures (trend, survival, one per breakdown)."""
    target = figures.get("target", settings.RETENTION_TARGET)
    target_label = _("Target %(percent)s %%") % {"percent": f"{target * 100:.0f}"}
    out: dict[str, Any] = {}
    trend = figures.get("trend") or []
    if trend:
        out["trend"] = charts.line_chart(
            trend,
            value_key="retention_rate",
            title=_("Retention by quarter"),
            desc=_("Retention at each quarter end; the dashed line is the target."),
            target=target,
            target_label=target_label,
        )
    survival = figures.get("survival") or []
    if survival:
        out["survival"] = charts.step_chart(
            survival,
            title=_("Share still housed by months since first move-in"),
            desc=_(
                "Kaplan–Meier estimate; people still housed are censored at the reference date."
            ),
            x_label=_("Months since first move-in"),
        )
    for key, (title, desc) in TIME_TO_EVENT_CHARTS.items():
        points = figures.get(key) or []
        if points:
            out[key.replace("_", "-")] = charts.step_chart(
                points, title=str(title), desc=str(desc), x_label=str(TIME_TO_EVENT[key][1])
            )
    out["breakdowns"] = {}
    for name, groups in figures["breakdown"].items():
        rows = [
            (group_label(name, key), c["retention_rate"], c["cohort"]) for key, c in groups.items()
        ]
        if rows:
            out["breakdowns"][name] = charts.bar_chart(
                rows,
                title=str(BREAKDOWN_TITLES[name]),
                desc=_("Retention per group; the dashed line is the target."),
                target=target,
                target_label=target_label,
            )
    return out


def yearly(points: list[dict]) -> list[dict]:
    """The monthly survival points summed per 12 months: followed at the start
    of each year, homes lost and censored during it, the share at its end."""
    out = []
    for start in range(0, len(points), 12):
        chunk = points[start : start + 12]
        out.append(
            {
                "month": chunk[0]["month"],
                "at_risk": chunk[0]["at_risk"],
                "events": sum(p["events"] for p in chunk),
                "censored": sum(p["censored"] for p in chunk),
                "survival": chunk[-1]["survival"],
            }
        )
    return out


def headline(figures: dict) -> dict[str, int]:
    """The numerator and denominator of the headline rate, for the sentence under it."""
    retained = figures["housed"] + figures["moved_on"]
    return {"retained": retained, "denominator": figures["cohort"] - figures["deceased"]}


def board_sections(figures: dict) -> list[dict[str, Any]]:
    """The sections higher apps added to a report (``board_report_sources``,
    stored as dicts with the figures), each as its lead sentence and a
    ``Table`` (empty when the section has only its lead)."""
    out = []
    for section in figures.get("board_sections") or []:
        table = Table(
            section["key"],
            section["title"],
            [(heading, kind) for heading, kind in section["columns"]],
            [list(row) for row in section["rows"]],
            caption=section.get("caption", ""),
        )
        out.append({"key": section["key"], "lead": section["lead"], "table": table})
    return out


def report_context(*, report, figures: dict) -> dict[str, Any]:
    """Everything the PDF template (and the report page) shows for ``figures``."""
    # ``outcomes`` builds on this module's Table: imported here, not at the top.
    from .outcomes import outcomes_table

    breakdowns = breakdown_tables(figures)
    all_charts = figure_charts(figures)
    return {
        "report": report,
        "figures": figures,
        "headline": headline(figures),
        "summary": summary_table(figures),
        "breakdowns": breakdowns,
        # Each breakdown's table with its chart, which the PDF shows together.
        "breakdown_figures": [
            {"table": t, "chart": all_charts["breakdowns"].get(t.key.removeprefix("breakdown-"))}
            for t in breakdowns
        ],
        "trend_table": trend_table(figures.get("trend") or []),
        "survival_table": survival_table(figures.get("survival") or []),
        "survival_yearly": survival_table(yearly(figures.get("survival") or [])),
        # Waiting time and time to takeover, each with its chart, per year.
        "time_to_event_figures": [
            {"table": t, "chart": all_charts.get(t.key), "median": median_sentence(t.key, figures)}
            for t in time_to_event_tables(figures, per_year=True)
        ],
        "charts": all_charts,
        # Outcomes from move-in to 12 and 24 months (a report stored before
        # they were added has none), and the team's fidelity score.
        "outcomes_table": outcomes_table(figures["outcomes"]) if "outcomes" in figures else None,
        "board_sections": board_sections(figures),
    }
