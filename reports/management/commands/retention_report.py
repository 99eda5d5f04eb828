"""python manage.py retention_report --as-of YYYY-MM-DD [--months N]
[--format json|csv|xlsx|pdf] [--output FILE]: the retention figures as JSON,
CSV, .xlsx or PDF. An output file ending in .xlsx is written as .xlsx unless
another format is asked for."""

import io
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from bostadforst.exports import RATE, write_csv, write_xlsx
from reports import retention
from reports.presentation import BREAKDOWN_TITLES, group_label, report_context
from reports.services import report_figures

# The CSV's columns after group_by and group, named as the JSON keys.
CSV_KEYS = (
    "cohort",
    "housed",
    "moved_on",
    "lost",
    "deceased",
    "retention_rate",
    "retention_rate_incl_deceased",
    "meets_target",
    "takeover_share",
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Compute housing retention (DESIGN.md) for a reference date and horizon."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="Reference date, YYYY-MM-DD.")
        parser.add_argument("--months", type=int, default=0, help="Horizon in months (0 = none).")
        parser.add_argument(
            "--format",
            choices=["json", "csv", "xlsx", "pdf"],
            help="json (the default), csv, xlsx (the default for an --output ending in .xlsx) "
            "or pdf.",
        )
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, **options):
        as_of = _date(options["as_of"])
        months = options["months"]
        if months < 0:
            raise CommandError("--months must be 0 or more")
        fmt = options["format"]
        if fmt is None:
            output = (options["output"] or "").lower()
            fmt = "xlsx" if output.endswith(".xlsx") else "json"
        if fmt == "json":
            figures = retention.compute(as_of=as_of, months=months)
            figures.pop("filters", None)
            payload = (json.dumps(figures, ensure_ascii=False, indent=2) + "\n").encode()
        elif fmt == "csv":
            payload = self._csv(retention.compute(as_of=as_of, months=months))
        elif fmt == "xlsx":
            if not options["output"]:
                raise CommandError("--format xlsx needs --output FILE")
            payload = self._xlsx(retention.compute(as_of=as_of, months=months))
        else:
            if not options["output"]:
                raise CommandError("--format pdf needs --output FILE")
            from reports.models import Report
            from reports.pdf import render_report_pdf

            figures = report_figures(as_of=as_of, months=months, filters={})
            report = Report(as_of=as_of, months=months)
            payload = render_report_pdf(context=report_context(report=report, figures=figures))
        if options["output"]:
            with open(options["output"], "wb") as fh:
                fh.write(payload)
        else:
            self.stdout.write(payload.decode(), ending="")

    def _csv(self, figures: dict) -> bytes:
        rows = [["all", "", *[_cell(figures[k]) for k in CSV_KEYS]]]
        for name, groups in figures["breakdown"].items():
            for group, counts in groups.items():
                rows.append([name, group, *[_cell(counts[k]) for k in CSV_KEYS]])
        out = io.StringIO()
        # Commas and no BOM: a machine-readable file, unlike the Excel downloads.
        write_csv(out, ["group_by", "group", *CSV_KEYS], rows, delimiter=",")
        return out.getvalue().encode("utf-8")

    def _xlsx(self, figures: dict) -> bytes:
        """The CSV's rows for people: Swedish headings and group names, rates
        as per cent."""
        header = [
            _("Grouping"),
            _("Group"),
            _("Cohort"),
            pgettext("retention", "Housed"),
            _("Moved on"),
            _("Lost the home"),
            pgettext("retention", "Deceased"),
            _("Retention"),
            _("Retention, deceased counted"),
            _("Target met"),
            _("Takeover share"),
        ]
        kinds = [None] * 7 + [RATE, RATE, None, RATE]

        def cells(counts: dict) -> list:
            meets = counts["meets_target"]
            return [
                *[counts[k] for k in CSV_KEYS[:7]],
                "" if meets is None else _("yes") if meets else _("no"),
                counts["takeover_share"],
            ]

        rows = [[_("All"), "", *cells(figures)]]
        for name, groups in figures["breakdown"].items():
            for group, counts in groups.items():
                title = str(BREAKDOWN_TITLES.get(name, name))
                rows.append([title, group_label(name, group), *cells(counts)])
        out = io.BytesIO()
        write_xlsx(out, header, rows, kinds=kinds, title=_("Retention"))
        return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
