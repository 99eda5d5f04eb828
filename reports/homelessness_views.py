"""Socialstyrelsen's homelessness count: the page and its export (unit managers only)."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from bostadforst.access_log import log_access
from bostadforst.exports import (
    CSV,
    SPOOL_BYTES,
    XLSX,
    XLSX_CONTENT_TYPE,
    Sheet,
    download_response,
    write_workbook,
)
from bostadforst.models import AccessLogEntry

from . import homelessness_count as count
from .forms import HomelessnessWeekForm


class HomelessnessCountView(TemplateView):
    """Choose a week; the counts per situation and the downloads for it."""

    template_name = "reports/homelessness_count.html"

    def get(self, request, *args, **kwargs):
        today = timezone.localdate()
        data = request.GET.copy()
        data.setdefault("week", count.default_week(today).label)
        form = HomelessnessWeekForm(data, today=today)
        context = {"form": form}
        if form.is_valid():
            week = form.cleaned_data["week"]
            result = count.homelessness_count(week=week)
            counts = result.counts()
            context.update(
                week=week,
                lines=_lines(counts),
                xlsx_url=reverse(
                    "reports:homelessness-count-xlsx", kwargs={"year": week.year, "week": week.week}
                ),
                csv_url=reverse(
                    "reports:homelessness-count-csv", kwargs={"year": week.year, "week": week.week}
                ),
            )
        response = self.render_to_response(self.get_context_data(**context))
        if form.errors:
            response.status_code = 400
        return response


def _lines(counts) -> list[dict]:
    """The page's table: the four situations, their sum, unknown, not homeless, all."""
    keys = [
        *count.HOMELESS,
        "homeless",
        count.UNKNOWN,
        count.HousingSituation.NOT_HOMELESS,
        "all",
    ]
    labels = {
        "homeless": _("Homeless by Socialstyrelsen's definition (situations 1–4)"),
        "all": _("Everyone in the programme during the week"),
    }
    return [
        {
            "label": labels.get(key) or count.situation_label(key),
            "counts": {
                "total": counts[key]["total"],
                "female": counts[key]["female"],
                "male": counts[key]["male"],
                "unknown": counts[key][""],
            },
            "total": key in labels,
        }
        for key in keys
    ]


class HomelessnessCountDownloadView(View):
    """The count for one week: an .xlsx with one anonymous row per person and a
    sheet of counts per situation, or the rows alone as CSV. No personnummer,
    name or id; people with protected identity are counted without birth
    year, months in homelessness or anything else that could single them out.
    Every download is logged as an export."""

    def get(self, request, year: int, week: int, fmt: str = XLSX):
        iso_week = count.IsoWeek.checked(year, week)
        if iso_week is None or iso_week.first_day > timezone.localdate():
            raise Http404
        log_access(
            action=AccessLogEntry.Action.EXPORT,
            request=request,
            model="reports.homelessness_count",
        )
        result = count.homelessness_count(week=iso_week)
        stem = f"hemloshet-{iso_week.label}"
        header = count.row_header()
        if fmt == CSV:
            return download_response(CSV, stem, header, count.row_cells(result))
        # FileResponse closes the file when the download has been sent.
        file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        write_workbook(
            file,
            [
                Sheet(title=_("People"), header=header, rows=count.row_cells(result)),
                Sheet(
                    title=_("Counts per situation"),
                    header=count.summary_header(),
                    rows=count.summary_rows(result, made_at=timezone.now()),
                ),
            ],
        )
        file.seek(0)
        return FileResponse(
            file, as_attachment=True, filename=f"{stem}.xlsx", content_type=XLSX_CONTENT_TYPE
        )
