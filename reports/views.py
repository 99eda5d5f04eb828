"""Views of the reports app (unit managers only, see ACCESS_TABLE)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from bostadforst import scope
from bostadforst.access_log import log_access
from bostadforst.exports import (
    XLSX,
    XLSX_CONTENT_TYPE,
    Percent,
    download_response,
    stored_file_download,
)
from bostadforst.mixins import ServiceFormMixin
from bostadforst.models import AccessLogEntry
from bostadforst.permissions import scope_refuses
from participants.protection import INCLUDE_PROTECTED, export_includes_protected

from . import selectors, services
from .forms import (
    CohortImportStartForm,
    CohortUploadForm,
    ReportOrderForm,
    RetentionParametersForm,
)
from .models import CohortImport, Report
from .presentation import DATE, RATE, Table, board_sections, figure_charts, headline
from .selectors import LINK


def _parameters(request) -> tuple[RetentionParametersForm, dict]:
    """The dashboard's parameters from the query string; today and no horizon by default."""
    data = request.GET.copy()
    data.setdefault("as_of", timezone.localdate().isoformat())
    data.setdefault("months", "0")
    form = RetentionParametersForm(data)
    if form.is_valid():
        params = {
            "as_of": form.cleaned_data["as_of"],
            "months": form.cleaned_data["months"],
            "filters": form.filters(),
        }
    else:
        params = {"as_of": timezone.localdate(), "months": 0, "filters": {}}
    return form, params


def _with_param(url: str, param: str) -> str:
    return f"{url}&{param}" if "?" in url else f"{url}?{param}"


# The team's own page for each of the dashboard's lists of people.
FULL_LISTS = {
    "overdue-reviews": "support:plan-review-list",
    "eviction-risks": "housing:eviction-risk-list",
}


def _sections(board, keys: list[str], download_url) -> list[dict]:
    out = []
    for key in keys:
        table = board.tables.get(key)
        if table is None:
            continue
        chart_key = key.removeprefix("breakdown-")
        chart = board.charts.get(chart_key) or board.charts["breakdowns"].get(chart_key)
        out.append(
            {
                "key": key,
                "title": table.title,
                "table": table,
                "chart": chart,
                "csv_url": download_url(key, "csv"),
                "xlsx_url": download_url(key, "xlsx"),
                # A table cut to its first rows links to the team's whole list.
                "full_list_url": reverse(FULL_LISTS[key])
                if table.cut and key in FULL_LISTS
                else "",
                # Lists of people leave out protected people unless asked.
                "protected_url": (
                    _with_param(download_url(key, "csv"), f"{INCLUDE_PROTECTED}=1")
                    if key in selectors.PERSON_TABLES
                    else ""
                ),
            }
        )
    return out


class DashboardView(TemplateView):
    template_name = "reports/dashboard.html"

    def get(self, request, *args, **kwargs):
        form, params = _parameters(request)
        board = selectors.dashboard(
            **params, today=timezone.localdate(), page_rows=selectors.PAGE_ROWS
        )
        query = request.GET.urlencode()

        def download_url(key: str, fmt: str) -> str:
            url = reverse(f"reports:dashboard-{fmt}", kwargs={"table": key})
            return f"{url}?{query}" if query else url

        breakdowns = [k for k in board.tables if k.startswith("breakdown-")]
        context = self.get_context_data(
            form=form,
            figures=board.figures,
            headline=headline(board.figures),
            params=params,
            # The import's one rule for a limited user (as the menu reads it).
            can_import=not scope_refuses(request.user, "reports:cohort-import"),
            time_sections=self._time_sections(board, download_url),
            breakdown_sections=_sections(board, breakdowns, download_url),
            team_sections=_sections(
                board,
                ["caseload", "overdue-reviews", "eviction-risks", "crisis-occupancy"],
                download_url,
            ),
        )
        response = self.render_to_response(context)
        if form.errors:
            response.status_code = 400
        return response

    def _time_sections(self, board, download_url) -> list[dict]:
        sections = _sections(
            board, ["trend", "survival", "waiting", "takeover-time", "outcomes"], download_url
        )
        median = board.figures.get("median_survival_months")
        for section in sections:
            if section["key"] == "survival":
                section["intro"] = _(
                    "Losing the home is the event; people still housed are followed up to the "
                    "reference date, people who moved on or died up to their move-out."
                )
                if median is not None:
                    section["intro"] += " " + _("Half had lost their home by month %(month)s.") % {
                        "month": median
                    }
            elif section["key"] in TIME_TO_EVENT_INTROS:
                section["intro"] = _time_to_event_intro(section["key"], board.figures)
            elif section["key"] == "outcomes":
                section["intro"] = section["table"].caption
        return sections


TIME_TO_EVENT_INTROS = {
    "waiting": (
        gettext_lazy(
            "From the day a referral was approved to the first move-in. People still waiting "
            "are followed up to the reference date, people who left the programme without "
            "moving in up to the day their case was closed. Of the filters, only the target "
            "group applies."
        ),
        "median_waiting_months",
        gettext_lazy("Half had moved in by month %(month)s."),
    ),
    "takeover-time": (
        gettext_lazy(
            "From moving in on a social contract to taking the contract over. People without "
            "a takeover are followed up to the reference date, or up to the move-out if they "
            "left the social contract."
        ),
        "median_takeover_months",
        gettext_lazy("Half had taken over their contract by month %(month)s."),
    ),
}


def _time_to_event_intro(key: str, figures: dict) -> str:
    """The curve's definition and, when the curve reaches a half, its median."""
    intro, median_key, median_text = TIME_TO_EVENT_INTROS[key]
    text = str(intro)
    median = figures.get(median_key)
    if median is not None:
        text += " " + str(median_text) % {"month": median}
    return text


def _download_cell(value, kind: str):
    """Raw values: rates as fractions (0.8333, per cent in .xlsx), dates as
    dates (stored figures hold ISO text), links as their text."""
    if kind == "mixed":
        value, kind = value
    if value is None:
        return None
    if kind == LINK:
        return value[0]
    if kind == RATE:
        return Percent(value)
    if kind == DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _table_download(table: Table, fmt: str, stem: str) -> HttpResponse:
    """``table`` as a CSV or .xlsx download (``bostadforst.exports``)."""
    rows = (
        [_download_cell(value, kind) for value, kind in zip(row, table.kinds, strict=False)]
        for row in table.rows
    )
    return download_response(fmt, stem, table.headings, rows)


class DashboardDownloadView(View):
    """One dashboard table as CSV or .xlsx, for the same parameters as the page.
    A table that lists people leaves out people with protected identity unless
    the manager asks for them (``?include_protected=1``)."""

    def get(self, request, table: str, fmt: str = "csv"):
        _form, params = _parameters(request)
        include_protected = export_includes_protected(
            user=request.user, asked=request.GET.get(INCLUDE_PROTECTED) == "1"
        )
        # The one table asked for, not the whole dashboard.
        found = selectors.dashboard_table(
            table, **params, today=timezone.localdate(), include_protected=include_protected
        )
        if found is None:
            raise Http404
        log_access(action=AccessLogEntry.Action.EXPORT, request=request, model=f"reports.{table}")
        stem = f"{table}-{params['as_of']:%Y-%m-%d}"
        if include_protected and table in selectors.PERSON_TABLES:
            stem += "-med-skyddade"
        return _table_download(found, fmt, stem)


class ReportListView(ServiceFormMixin, FormView):
    """Stored reports, newest first, and the form to order a new one."""

    template_name = "reports/report_list.html"
    form_class = ReportOrderForm
    success_message = gettext_lazy("The report is ordered. This page shows when it is ready.")

    def get_initial(self):
        """Today and no horizon, or what the dashboard it was opened from
        showed (its query string): the valid parameters, the rest ignored."""
        initial = {"as_of": timezone.localdate(), "months": 0}
        if self.request.method == "GET" and self.request.GET:
            shown = RetentionParametersForm(self.request.GET)
            shown.is_valid()
            initial.update({k: v for k, v in shown.cleaned_data.items() if v not in ("", None)})
        return initial

    def get_context_data(self, **kwargs):
        kwargs["reports"] = selectors.report_list(user=self.request.user)[:50]
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.report_order(
            as_of=form.cleaned_data["as_of"],
            months=form.cleaned_data["months"],
            # The orderer's own row scope goes with the order: the job runs
            # without them (bostadforst.scope).
            filters={**form.filters(), **scope.user_filters(self.request.user)},
            title=form.cleaned_data["title"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return self.object.get_absolute_url()


class ReportDetailView(DetailView):
    template_name = "reports/report_detail.html"
    context_object_name = "report"

    def get_object(self, queryset=None):
        return selectors.report_get_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        report = self.object
        kwargs["pending"] = report.state in (Report.State.QUEUED, Report.State.RUNNING)
        if report.figures:
            tables = selectors.report_tables(report)
            charts = figure_charts(report.figures)
            # The fidelity section's lead (its assessment's date and overall
            # score) and the outcomes' definition, above their tables.
            intros = {
                s["key"]: " ".join(filter(None, [s["lead"], s["table"].caption]))
                for s in board_sections(report.figures)
            }
            if "outcomes" in tables:
                intros["outcomes"] = tables["outcomes"].caption
            kwargs["headline"] = headline(report.figures)
            kwargs["sections"] = [
                {
                    "key": key,
                    "title": table.title,
                    "intro": intros.get(key, ""),
                    "table": table,
                    "chart": charts.get(key)
                    or charts["breakdowns"].get(key.removeprefix("breakdown-")),
                    "csv_url": reverse(
                        "reports:report-csv", kwargs={"pk": report.pk, "table": key}
                    ),
                    "xlsx_url": reverse(
                        "reports:report-xlsx", kwargs={"pk": report.pk, "table": key}
                    ),
                }
                for key, table in tables.items()
            ]
        return super().get_context_data(**kwargs)


class ReportStatusView(View):
    """The job's state as JSON, polled by static/js/job-status.js."""

    def get(self, request, pk: int):
        report = selectors.report_get_for_user(user=request.user, pk=pk)
        return JsonResponse(
            {
                "state": report.state,
                "finished": report.state in (Report.State.DONE, Report.State.FAILED),
                "label": str(report.get_state_display()),
                "error": report.error if report.state == Report.State.FAILED else "",
                "pdf_url": (
                    reverse("reports:report-pdf", kwargs={"pk": report.pk}) if report.pdf else ""
                ),
                "sent_to_broker": report.sent_to_broker,
            }
        )


class ReportPdfView(View):
    def get(self, request, pk: int):
        report = selectors.report_get_for_user(user=request.user, pk=pk)
        return stored_file_download(
            request,
            report,
            report.pdf,
            filename=f"kvarboende-{report.as_of:%Y-%m-%d}-{report.pk}.pdf",
            content_type="application/pdf",
        )


class ReportDownloadView(View):
    """One table of a stored report as CSV or .xlsx."""

    def get(self, request, pk: int, table: str, fmt: str = "csv"):
        report = selectors.report_get_for_user(user=request.user, pk=pk)
        tables = selectors.report_tables(report)
        if table not in tables:
            raise Http404
        log_access(action=AccessLogEntry.Action.EXPORT, request=request, obj=report)
        return _table_download(tables[table], fmt, f"{table}-{report.as_of:%Y-%m-%d}-{report.pk}")


# --- Cohort import ----------------------------------------------------------------


def import_progress(job: CohortImport) -> dict:
    """What the import page and its status poll show of a job's progress:
    the bar's per cent (None while the row count is unknown) and one line of
    text ("1 200 av 2 000 rader kontrollerade")."""
    if job.state == CohortImport.State.QUEUED:
        return {"percent": 0, "step": 0, "text": _("Waiting to start.")}
    if job.state == CohortImport.State.FAILED:
        return {"percent": None, "step": None, "text": _("The job failed.")}
    total = job.total
    numbers = {
        "done": number_format(job.done, force_grouping=True),
        "total": number_format(total or 0, force_grouping=True),
    }
    if job.state == CohortImport.State.DONE:
        percent = 100
    elif total:
        percent = min(100, job.done * 100 // total)
    else:
        percent = None
    if job.stage == CohortImport.Stage.WRITE and job.is_commit:
        text = _("%(done)s of %(total)s rows written") % numbers
    elif job.stage == CohortImport.Stage.WRITE:
        text = _("%(done)s of %(total)s rows tried against the register") % numbers
    elif job.stage == CohortImport.Stage.CHECK and total:
        text = _("%(done)s of %(total)s rows checked") % numbers
    elif job.stage == CohortImport.Stage.CHECK:
        text = _("%(done)s rows checked") % numbers
    else:
        text = _("Starting.")
    # The bar's width as rendered, in the 5 % steps static/css/job-status.css has.
    step = None if percent is None else 5 * round(percent / 5)
    return {"percent": percent, "step": step, "text": text}


class CohortImportView(ServiceFormMixin, FormView):
    """Upload a spreadsheet: it is kept on the server and a preview job
    checks it (writing nothing); the page of that job follows."""

    template_name = "reports/cohort_import.html"
    form_class = CohortUploadForm

    def get_context_data(self, **kwargs):
        kwargs["imports"] = selectors.cohort_import_recent(user=self.request.user)
        kwargs["max_mb"] = f"{settings.COHORT_IMPORT_MAX_BYTES / (1024 * 1024):g}"
        return super().get_context_data(**kwargs)

    def perform(self, form):
        upload = form.cleaned_data["file"]
        return services.cohort_import_order(
            data=upload.read(), filename=upload.name, acting_user=self.request.user
        )

    def get_success_url(self):
        return self.object.get_absolute_url()


class CohortImportDetailView(ServiceFormMixin, FormView):
    """One import job: its progress while it runs; then the counts, the
    format the file was read as and every error. A preview without errors
    offers the import of the same file (the form only confirms)."""

    template_name = "reports/cohort_import_detail.html"
    form_class = CohortImportStartForm
    success_message = gettext_lazy("The import has started. This page shows its progress.")

    def dispatch(self, request, *args, **kwargs):
        self.job = selectors.cohort_import_get_for_user(user=request.user, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        job = self.job
        errors = job.row_errors or []
        kwargs.update(
            job=job,
            progress=import_progress(job),
            counts=job.counts or {},
            errors=errors,
            errors_have_sheets=any(e.get("sheet") for e in errors),
            commit_job=getattr(job, "commit_job", None),
            can_start=(
                job.mode == CohortImport.Mode.PREVIEW
                and job.state == CohortImport.State.DONE
                and not errors
                and job.changes > 0
                and getattr(job, "commit_job", None) is None
            ),
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.cohort_import_start(preview=self.job, acting_user=self.request.user)

    def get_success_url(self):
        return self.object.get_absolute_url()


class CohortImportStatusView(View):
    """A job's state and progress as JSON, polled by static/js/job-status.js."""

    def get(self, request, pk: int):
        job = selectors.cohort_import_get_for_user(user=request.user, pk=pk)
        progress = import_progress(job)
        return JsonResponse(
            {
                "state": job.state,
                "finished": job.finished,
                "label": str(job.get_state_display()),
                "stage": job.stage,
                "done": job.done,
                "total": job.total,
                "percent": progress["percent"],
                "text": progress["text"],
            }
        )


class CohortImportErrorsView(View):
    """Every error of a finished job, as CSV or .xlsx (sheet, line, problem)."""

    def get(self, request, pk: int, fmt: str = "csv"):
        job = selectors.cohort_import_get_for_user(user=request.user, pk=pk)
        if job.state != CohortImport.State.DONE:
            raise Http404
        log_access(action=AccessLogEntry.Action.EXPORT, request=request, obj=job)
        header = [_("Sheet"), _("Line"), _("Problem")]
        rows = ([e.get("sheet", ""), e["line"], e["message"]] for e in job.row_errors or [])
        return download_response(fmt, f"importfel-{job.pk}", header, rows)


class CohortTemplateView(View):
    """An empty cohort spreadsheet with the Swedish column headers: the
    workbook (with a sheet of the accepted values) or its CSV twin."""

    def get(self, request, fmt: str = "xlsx"):
        from .sheets import COLUMN_LABELS, COLUMNS, cohort_template_xlsx

        stem = "kohortmall"
        if fmt == XLSX:
            response = HttpResponse(cohort_template_xlsx(), content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=f"{stem}.xlsx"
            )
            return response
        with translation.override("sv"):
            header = [str(COLUMN_LABELS[code]) for code in COLUMNS]
        return download_response(fmt, stem, header, [])
