"""Arguments and POST data for the reports URLs in the project-wide walking tests."""

from datetime import date

from django.utils import timezone

from reports.models import Report


def _report_pk(world) -> int:
    report = Report.objects.order_by("pk").first()
    if report is None:
        report = Report.objects.create(as_of=date(2025, 12, 31))
    return report.pk


SAMPLES = {
    "reports:dashboard-csv": lambda world: {"table": "summary"},
    "reports:report-detail": lambda world: {"pk": _report_pk(world)},
    "reports:report-status": lambda world: {"pk": _report_pk(world)},
    "reports:report-pdf": lambda world: {"pk": _report_pk(world)},
    "reports:report-csv": lambda world: {"pk": _report_pk(world), "table": "summary"},
    "reports:dashboard-xlsx": lambda world: {"table": "summary"},
    "reports:report-xlsx": lambda world: {"pk": _report_pk(world), "table": "summary"},
}

# Valid POST data for the form pages (tests/bostadforst/test_submit_walks.py).
FORM_SAMPLES = {
    "reports:report-list": lambda world: {
        "as_of": timezone.localdate().isoformat(),
        "months": "12",
        "title": "Uppföljning till nämnden",
        "landlord": "",
        "contract_type": "",
        "target_group": "",
    },
}
