"""Arguments and POST data for the reports URLs in the project-wide walking tests."""

from datetime import date
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from reports.models import CohortImport, RegisterExtract, Report

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")


def _report_pk(world) -> int:
    report = Report.objects.order_by("pk").first()
    if report is None:
        report = Report.objects.create(as_of=date(2025, 12, 31))
    return report.pk


def _import_job(*, errors: bool) -> int:
    """A finished preview: a clean one (the import can be started from its
    page) or one with errors (its errors can be downloaded)."""
    from tests.reports.factories import CohortImportFactory

    jobs = CohortImport.objects.filter(
        mode=CohortImport.Mode.PREVIEW, state=CohortImport.State.DONE, commit_job__isnull=True
    )
    jobs = jobs.filter(error_count__gt=0) if errors else jobs.filter(error_count=0)
    job = jobs.order_by("pk").first() or CohortImportFactory(with_errors=errors)
    return job.pk


def _participant_pk(world) -> int:
    from participants.models import Participant

    return Participant.objects.filter(identity_protection="").order_by("pk").first().pk


def _extract_pk(world) -> int:
    """A finished register extract (its PDF made by the job, so the download
    is walked too)."""
    from reports import extract

    job = RegisterExtract.objects.order_by("pk").first()
    if job is None:
        from participants.models import Participant

        person = Participant.objects.order_by("pk").first()
        job = RegisterExtract.objects.create(participant=person)
        # No progress beats: the beat's own connection cannot see the world's
        # uncommitted rows and would take the job for lost.
        interval, extract.PROGRESS_INTERVAL = extract.PROGRESS_INTERVAL, 3600
        try:
            extract.register_extract_run(extract_id=job.pk)
        finally:
            extract.PROGRESS_INTERVAL = interval
    return job.pk


def _survey_week(world) -> dict:
    """The week the homelessness count's page offers by default."""
    from reports.homelessness_count import default_week

    week = default_week(timezone.localdate())
    return {"year": week.year, "week": week.week}


def _research_export_pk(world) -> int:
    """A finished research export (written by the job, so the download is walked)."""
    from reports import research_export
    from reports.models import ResearchExport

    job = ResearchExport.objects.filter(state=ResearchExport.State.DONE).order_by("pk").first()
    if job is None:
        job = research_export.research_export_order(
            project="Utvärdering",
            purpose="Boendestabilitet",
            decision_reference="Dnr 2026-01234",
            export_key="walk-export-key-0123456789",
            date_mode="shift",
            acting_user=None,
        )
        # No progress beats: their own connection cannot see the world's rows.
        interval, research_export.PROGRESS_INTERVAL = research_export.PROGRESS_INTERVAL, 3600
        try:
            research_export.research_export_run(export_id=job.pk)
        finally:
            research_export.PROGRESS_INTERVAL = interval
    return job.pk


SAMPLES = {
    "reports:research-export-xlsx": lambda world: {"pk": _research_export_pk(world)},
    "reports:homelessness-count-xlsx": _survey_week,
    "reports:homelessness-count-csv": _survey_week,
    "reports:register-extract-start": lambda world: {"pk": _participant_pk(world)},
    "reports:register-extract-detail": lambda world: {"pk": _extract_pk(world)},
    "reports:register-extract-status": lambda world: {"pk": _extract_pk(world)},
    "reports:register-extract-pdf": lambda world: {"pk": _extract_pk(world)},
    "reports:dashboard-csv": lambda world: {"table": "summary"},
    "reports:data-quality-rule": lambda world: {"rule": "visit-without-note"},
    "reports:report-detail": lambda world: {"pk": _report_pk(world)},
    "reports:report-status": lambda world: {"pk": _report_pk(world)},
    "reports:report-pdf": lambda world: {"pk": _report_pk(world)},
    "reports:report-csv": lambda world: {"pk": _report_pk(world), "table": "summary"},
    "reports:cohort-import-detail": lambda world: {"pk": _import_job(errors=False)},
    "reports:cohort-import-status": lambda world: {"pk": _import_job(errors=False)},
    "reports:cohort-import-errors-csv": lambda world: {"pk": _import_job(errors=True)},
    "reports:cohort-import-errors-xlsx": lambda world: {"pk": _import_job(errors=True)},
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
    "reports:cohort-import": lambda world: {
        "file": SimpleUploadedFile("kohort.csv", HELSINGBORG.read_bytes(), "text/csv")
    },
    "reports:register-extract-start": lambda world: {"period_from": "", "period_to": ""},
    "reports:research-export": lambda world: {
        "project": "Lunds universitet",
        "decision_reference": "Dnr 2026-01234",
        "purpose": "Utvärdering av boendestabilitet",
        "export_key": "walk-export-key-0123456789",
        "date_mode": "month",
    },
    # Nothing but the submit token: the file stays on the server.
    "reports:cohort-import-detail": lambda world: {},
}
