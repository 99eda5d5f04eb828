"""Reads of the reports app: stored reports and the dashboard's figures.

The dashboard reads the housing and support models directly (reports sits at
the top of the layering) and aggregates in the database: a fixed number of
queries whatever the number of participants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Window
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from bostadforst import scope
from bostadforst.roles import MANAGERS, role_of
from housing.models import TenancyIncident
from participants.models import Participant, ParticipantStatus
from participants.protection import unprotected_only
from support.models import ActionPlan, CrisisPlace

from . import retention
from .models import CohortImport, Report
from .outcomes import outcome_figures, outcomes_table
from .presentation import (
    DATE,
    INT,
    RATE,
    TEXT,
    Table,
    board_sections,
    breakdown_tables,
    figure_charts,
    summary_table,
    survival_table,
    time_to_event_tables,
    trend_table,
)
from .time_to_event import add_time_to_event

LINK = "link"
# The dashboard's tables that list people one per row.
PERSON_TABLES = frozenset({"overdue-reviews", "eviction-risks"})
# The rows the dashboard page shows of each table that grows with the
# caseload (those and the caseload per worker): at a municipality's size they
# run to thousands (5,900 overdue reviews and 834 support workers in the
# N = 10,000 demo), which took the page four seconds to render. The page shows
# the first ones and how many there are, and links to the team's full list
# where there is one; the downloads hold every row.
PAGE_ROWS = 25
# People the team still works with (the caseload and the review list).


def _require_manager(user) -> None:
    if role_of(user) not in MANAGERS:
        raise Http404


def _reports_for(user) -> QuerySet[Report]:
    """The stored reports ``user`` may see: every one, or for a user with a row
    scope only those ordered under the same scope (``filters`` keep it;
    ``bostadforst.scope.user_filters``): a report of everyone counts people
    outside it."""
    reports = Report.objects.all()
    for key, value in scope.user_filters(user).items():
        reports = reports.filter(**{f"filters__{key}": value})
    return reports


def report_list(*, user) -> QuerySet[Report]:
    _require_manager(user)
    return _reports_for(user).select_related("ordered_by").order_by("-ordered_at", "-pk")


def report_get_for_user(*, user, pk: int) -> Report:
    _require_manager(user)
    try:
        return _reports_for(user).select_related("ordered_by").get(pk=pk)
    except Report.DoesNotExist:
        raise Http404 from None


def cohort_import_list(*, user) -> QuerySet[CohortImport]:
    """Import jobs, newest first (without the files' content)."""
    _require_manager(user)
    return CohortImport.objects.select_related("file", "ordered_by").defer("file__content")


def cohort_import_recent(*, user, limit: int = 10) -> list[CohortImport]:
    """The latest import jobs for the import page's list (without their errors)."""
    return list(cohort_import_list(user=user).defer("row_errors")[:limit])


def cohort_import_get_for_user(*, user, pk: int) -> CohortImport:
    """One import job for whoever may import; 404 for anyone else and for a
    job that does not exist (or has been pruned). The file's content is not
    loaded: the page polls this."""
    _require_manager(user)
    try:
        return cohort_import_list(user=user).select_related("commit_job").get(pk=pk)
    except CohortImport.DoesNotExist:
        raise Http404 from None


def _participant_url(pk: int) -> str:
    try:
        return reverse("participants:participant-detail", kwargs={"pk": pk})
    except NoReverseMatch:
        return ""


def _name(first: str, last: str, ref: str | None, pk: int) -> str:
    return f"{first} {last}".strip() or ref or f"#{pk}"


def _first(rows: QuerySet, limit: int | None) -> tuple[list[dict], int | None]:
    """``rows`` (a ``values()`` queryset), or only the first ``limit`` of them
    and how many there are in all, still in one query (a window count)."""
    if limit is None:
        return list(rows), None
    first = list(rows.annotate(_total=Window(Count("*")))[:limit])
    return first, first[0]["_total"] if first else 0


def caseload_table(*, limit: int | None = None) -> Table:
    """Active participants per assigned support worker, the largest caseloads
    first (one query; ``limit`` as for ``overdue_reviews_table``)."""
    rows = (
        Participant.objects.active()
        .values(
            "support_worker_id",
            "support_worker__first_name",
            "support_worker__last_name",
            "support_worker__username",
        )
        .annotate(
            total=Count("pk"),
            housed=Count("pk", filter=Q(status=ParticipantStatus.HOUSED)),
        )
        .order_by("-total", "support_worker__last_name", "support_worker__first_name")
    )
    rows, total = _first(rows, limit)
    t = Table(
        "caseload",
        _("Caseload per support worker"),
        [(_("Support worker"), TEXT), (_("Participants"), INT), (_("Of whom housed"), INT)],
        total=total,
    )
    for row in rows:
        if row["support_worker_id"] is None:
            name = _("Not assigned")
        else:
            name = (
                f"{row['support_worker__first_name']} {row['support_worker__last_name']}".strip()
                or row["support_worker__username"]
            )
        t.rows.append([name, row["total"], row["housed"]])
    return t


def overdue_reviews_table(
    *, today: date, include_protected: bool = True, limit: int | None = None
) -> Table:
    """Active participants whose current (highest-numbered) plan's review date
    has passed (one query; the current plan is found with a subquery).
    Without ``include_protected``, people with protected identity are left out
    (a download: ``participants.protection.INCLUDE_PROTECTED``); with a
    ``limit``, only the first rows are read (``_first``)."""
    latest = ActionPlan.objects.filter(participant=OuterRef("pk")).order_by("-number")
    people = Participant.objects.active()
    if not include_protected:
        people = unprotected_only(people)
    rows = (
        people.annotate(review_on=Subquery(latest.values("review_on")[:1]))
        .filter(review_on__lt=today)
        .values(
            "pk",
            "first_name",
            "last_name",
            "external_ref",
            "review_on",
            "support_worker__first_name",
            "support_worker__last_name",
        )
        .order_by("review_on", "last_name", "pk")
    )
    rows, total = _first(rows, limit)
    t = Table(
        "overdue-reviews",
        _("Overdue action-plan reviews"),
        [
            (_("Participant"), LINK),
            (_("Review was due"), DATE),
            (_("Days overdue"), INT),
            (_("Support worker"), TEXT),
        ],
        total=total,
    )
    for r in rows:
        name = _name(r["first_name"], r["last_name"], r["external_ref"], r["pk"])
        worker = f"{r['support_worker__first_name'] or ''} {r['support_worker__last_name'] or ''}"
        t.rows.append(
            [
                (name, _participant_url(r["pk"])),
                r["review_on"].isoformat(),
                (today - r["review_on"]).days,
                worker.strip() or "–",
            ]
        )
    return t


def eviction_risks_table(
    *, today: date, include_protected: bool = True, limit: int | None = None
) -> Table:
    """Open rent arrears and notices on tenancies still running (one query);
    ``include_protected`` and ``limit`` as for ``overdue_reviews_table``."""
    incidents = TenancyIncident.objects.eviction_risks(today)
    if not include_protected:
        incidents = unprotected_only(incidents, path="tenancy__participant")
    rows = incidents.values(
        "kind",
        "occurred_on",
        "tenancy__participant_id",
        "tenancy__participant__first_name",
        "tenancy__participant__last_name",
        "tenancy__participant__external_ref",
        "tenancy__apartment__landlord__name",
    ).order_by("occurred_on", "pk")
    rows, total = _first(rows, limit)
    kinds = dict(TenancyIncident.Kind.choices)
    t = Table(
        "eviction-risks",
        _("Open eviction risks"),
        [
            (_("Participant"), LINK),
            (_("Kind"), TEXT),
            (_("Since"), DATE),
            (_("Landlord"), TEXT),
        ],
        total=total,
    )
    for r in rows:
        pid = r["tenancy__participant_id"]
        name = _name(
            r["tenancy__participant__first_name"],
            r["tenancy__participant__last_name"],
            r["tenancy__participant__external_ref"],
            pid,
        )
        t.rows.append(
            [
                (name, _participant_url(pid)),
                str(kinds.get(r["kind"], r["kind"])),
                r["occurred_on"].isoformat(),
                r["tenancy__apartment__landlord__name"],
            ]
        )
    return t


def crisis_occupancy_table(*, today: date) -> Table:
    """Beds taken per crisis place today, [start, end) containing today (one query)."""
    places = (
        CrisisPlace.objects.with_occupancy(today)
        .values("name", "capacity", "occupied", "free")
        .order_by("name")
    )
    t = Table(
        "crisis-occupancy",
        _("Crisis-place occupancy today"),
        [
            (_("Crisis place"), TEXT),
            (_("Capacity"), INT),
            (_("Occupied"), INT),
            (_("Free"), INT),
            (pgettext("retention", "Occupancy"), RATE),
        ],
    )
    for p in places:
        share = round(p["occupied"] / p["capacity"], 4) if p["capacity"] else None
        t.rows.append([p["name"], p["capacity"], p["occupied"], max(p["free"], 0), share])
    return t


@dataclass
class Dashboard:
    figures: dict[str, Any]
    tables: dict[str, Table]
    charts: dict[str, Any]


def dashboard(
    *,
    as_of: date,
    months: int,
    filters: dict,
    today: date,
    include_protected: bool = True,
    page_rows: int | None = None,
) -> Dashboard:
    """Everything on the manager's dashboard in a fixed number of queries:
    three for the retention data (reused by the trend and the survival curve)
    and one for each operational table. Without ``include_protected`` the
    tables that list people (``PERSON_TABLES``) leave out people with
    protected identity; figures and counts always count everyone. With
    ``page_rows`` the tables that grow with the caseload hold only their
    first rows (``PAGE_ROWS``: the page).

    The ``unit`` and ``provider`` filters narrow every figure and table to the
    people of that unit or provider, as a row scope does
    (``bostadforst.scope``), together with the viewer's own scope."""
    with scope.narrowed(scope.filter_limits(filters)):
        return _dashboard(
            as_of=as_of,
            months=months,
            filters=filters,
            today=today,
            include_protected=include_protected,
            page_rows=page_rows,
        )


def _dashboard(
    *,
    as_of: date,
    months: int,
    filters: dict,
    today: date,
    include_protected: bool,
    page_rows: int | None,
) -> Dashboard:
    figures = _figures(as_of=as_of, months=months, filters=filters)
    tables: dict[str, Table] = {table.key: table for table in _figure_tables(figures)}
    operational = _operational_tables(
        as_of=as_of, today=today, include_protected=include_protected, page_rows=page_rows
    )
    tables.update((key, build()) for key, build in operational.items())
    return Dashboard(figures=figures, tables=tables, charts=figure_charts(figures))


def dashboard_table(
    table: str,
    *,
    as_of: date,
    months: int,
    filters: dict,
    today: date,
    include_protected: bool = True,
) -> Table | None:
    """One table of ``dashboard`` (every row), or None for no such table:
    an operational list without the retention figures, a figure table
    without the lists and charts."""
    with scope.narrowed(scope.filter_limits(filters)):
        operational = _operational_tables(
            as_of=as_of, today=today, include_protected=include_protected, page_rows=None
        )
        if table in operational:
            return operational[table]()
        figures = _figures(as_of=as_of, months=months, filters=filters)
        return next((t for t in _figure_tables(figures) if t.key == table), None)


def _figures(*, as_of: date, months: int, filters: dict) -> dict:
    """The dashboard's figures: three queries for the retention data, reused
    by the trend, the survival curve and the time to events."""
    data = retention.load(until=as_of)
    figures = retention.compute(as_of=as_of, months=months, filters=filters, data=data)
    figures["trend"] = retention.trend(data, as_of=as_of, months=months, filters=filters)
    figures["survival"] = retention.survival(data, as_of=as_of, filters=filters)
    figures["median_survival_months"] = retention.median_survival_months(figures["survival"])
    add_time_to_event(figures, data, as_of=as_of, filters=filters)
    return figures


def _figure_tables(figures: dict) -> list[Table]:
    return [
        summary_table(figures),
        trend_table(figures["trend"]),
        survival_table(figures["survival"]),
        *time_to_event_tables(figures),
        *breakdown_tables(figures),
    ]


def _operational_tables(
    *, as_of: date, today: date, include_protected: bool, page_rows: int | None
) -> dict[str, Callable[[], Table]]:
    """The tables that need no retention figures, by key, each built (a query
    or two) when called."""
    return {
        # Outcomes beyond retention (issue 18 item 2): two queries.
        "outcomes": lambda: outcomes_table(outcome_figures(as_of=as_of)),
        "caseload": lambda: caseload_table(limit=page_rows),
        "overdue-reviews": lambda: overdue_reviews_table(
            today=today, include_protected=include_protected, limit=page_rows
        ),
        "eviction-risks": lambda: eviction_risks_table(
            today=today, include_protected=include_protected, limit=page_rows
        ),
        "crisis-occupancy": lambda: crisis_occupancy_table(today=today),
    }


def report_tables(report: Report) -> dict[str, Table]:
    """The tables of a finished report, from its stored figures."""
    figures = report.figures or {}
    if not figures:
        return {}
    tables = [
        summary_table(figures),
        trend_table(figures.get("trend") or []),
        survival_table(figures.get("survival") or []),
        *time_to_event_tables(figures),
        *([outcomes_table(figures["outcomes"])] if "outcomes" in figures else []),
        *(section["table"] for section in board_sections(figures) if section["table"].rows),
        *breakdown_tables(figures),
    ]
    return {t.key: t for t in tables}
