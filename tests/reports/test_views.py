"""The dashboard, report pages, CSV downloads and the web import, by role."""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from bostadforst.models import AccessLogEntry
from housing.models import ExitReason
from reports.models import Report
from reports.selectors import PAGE_ROWS
from tests.participants.factories import ParticipantFactory
from tests.support.factories import ActionPlanFactory

pytestmark = pytest.mark.django_db

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")


@pytest.fixture
def cohort(tenancy):
    for _ in range(4):
        tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-03-01", move_out="2023-01-01", reason=ExitReason.EVICTED)


def test_dashboard_shows_the_rate_against_the_target_in_words(um_client, cohort):
    response = um_client.get(reverse("reports:dashboard"), {"as_of": "2024-06-30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "80,0\u00a0%" in html  # 4 / 5
    assert "Målet 80\u00a0% är uppnått" in html
    assert "<svg" in html and "<script" not in html.split("</footer>")[0].split("<main")[1]
    assert 'style="' not in html


def test_dashboard_says_not_met_below_the_target(um_client, tenancy):
    tenancy(move_in="2022-01-01")
    tenancy(move_in="2022-01-01", move_out="2023-01-01", reason=ExitReason.EVICTED)
    html = um_client.get(reverse("reports:dashboard"), {"as_of": "2024-06-30"}).content.decode()
    assert "Målet 80\u00a0% är inte uppnått" in html


@pytest.mark.parametrize("fixture", ["sw_client", "ss_client", "admin_user_client"])
def test_dashboard_is_refused_for_other_roles(request, fixture):
    client = request.getfixturevalue(fixture)
    assert client.get(reverse("reports:dashboard")).status_code == 403
    assert client.get(reverse("reports:report-list")).status_code == 403


def test_dashboard_with_a_bad_date_answers_400_with_the_message(um_client):
    response = um_client.get(reverse("reports:dashboard"), {"as_of": "2999-01-01"})
    assert response.status_code == 400
    assert "framtiden" in response.content.decode()


@pytest.mark.parametrize(
    "table",
    [
        "summary",
        "trend",
        "survival",
        "waiting",
        "takeover-time",
        "breakdown-landlord",
        "breakdown-target_group",
        "caseload",
        "overdue-reviews",
        "eviction-risks",
        "crisis-occupancy",
    ],
)
def test_every_dashboard_table_downloads_as_csv(um_client, cohort, table):
    url = reverse("reports:dashboard-csv", kwargs={"table": table})
    response = um_client.get(url, {"as_of": "2024-06-30"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    assert body.count("\n") >= 1
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()


def test_summary_csv_has_raw_rates(um_client, cohort):
    url = reverse("reports:dashboard-csv", kwargs={"table": "summary"})
    body = um_client.get(url, {"as_of": "2024-06-30"}).content.decode("utf-8-sig")
    assert ";0.8\r\n" in body or ";0.8\n" in body


def test_unknown_csv_table_is_404(um_client):
    url = reverse("reports:dashboard-csv", kwargs={"table": "nope"})
    assert um_client.get(url).status_code == 404


def test_ordering_a_report_runs_it_eagerly_and_offers_the_pdf(
    um_client, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = um_client.post(
            reverse("reports:report-list"), {"as_of": "2024-06-30", "months": "0"}
        )
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == report.get_absolute_url()
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    assert report.sent_to_broker
    assert report.figures["retention_rate"] == 0.8
    page = um_client.get(report.get_absolute_url()).content.decode()
    assert reverse("reports:report-pdf", kwargs={"pk": report.pk}) in page
    status = um_client.get(reverse("reports:report-status", kwargs={"pk": report.pk})).json()
    assert status["state"] == "done" and status["pdf_url"]
    pdf = um_client.get(reverse("reports:report-pdf", kwargs={"pk": report.pk}))
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    csv = um_client.get(reverse("reports:report-csv", kwargs={"pk": report.pk, "table": "trend"}))
    assert csv.status_code == 200


def test_a_queued_report_page_polls_its_status_with_an_external_script(um_client):
    report = Report.objects.create(as_of=date(2024, 6, 30))
    html = um_client.get(report.get_absolute_url()).content.decode()
    assert "data-job-status-url" in html
    assert "js/job-status.js" in html
    assert "I kö" in html or "Queued" in html


def test_a_failed_report_shows_its_reason(um_client):
    report = Report.objects.create(
        as_of=date(2024, 6, 30), state=Report.State.FAILED, error="ValueError: trasigt"
    )
    html = um_client.get(report.get_absolute_url()).content.decode()
    assert "ValueError: trasigt" in html
    assert um_client.get(reverse("reports:report-pdf", kwargs={"pk": report.pk})).status_code == 404


def test_bad_order_answers_400_and_stores_nothing(um_client):
    response = um_client.post(reverse("reports:report-list"), {"as_of": "x", "months": "-1"})
    assert response.status_code == 400
    assert not Report.objects.exists()


def test_import_is_refused_for_support_staff(ss_client):
    assert ss_client.get(reverse("reports:cohort-import")).status_code == 403


def test_the_dashboard_shows_the_first_overdue_reviews_and_links_to_the_whole_list(
    um_client,
):
    """At a municipality's size thousands of reviews are overdue at once: the
    page shows the first ones, how many there are and the list to work
    through; the download still holds every one."""
    overdue = PAGE_ROWS + 3
    for day in range(overdue):
        person = ParticipantFactory(status="housed", last_name=f"Försenad{day:02d}")
        ActionPlanFactory(
            participant=person, agreed_on=date(2023, 6, 1), review_on=date(2024, 1, 1 + day)
        )
    html = um_client.get(reverse("reports:dashboard")).content.decode()
    shown = [n for n in range(overdue) if f"Försenad{n:02d}" in html]
    assert shown == list(range(PAGE_ROWS))  # the longest overdue first
    assert f"De första {PAGE_ROWS} av {overdue} visas; nedladdningarna innehåller alla." in html
    assert f'href="{reverse("support:plan-review-list")}"' in html
    body = um_client.get(
        reverse("reports:dashboard-csv", kwargs={"table": "overdue-reviews"})
    ).content.decode("utf-8-sig")
    assert all(f"Försenad{n:02d}" in body for n in range(overdue))


def test_a_short_list_of_people_on_the_dashboard_is_shown_whole(um_client):
    person = ParticipantFactory(status="housed", last_name="Ensamförsenad")
    ActionPlanFactory(participant=person, agreed_on=date(2023, 6, 1), review_on=date(2024, 1, 1))
    html = um_client.get(reverse("reports:dashboard")).content.decode()
    assert "Ensamförsenad" in html
    assert "visas." not in html


def test_each_table_alone_holds_what_the_dashboard_holds_for_it(cohort, monkeypatch):
    """``dashboard_table`` builds one table: the same columns and rows as the
    whole dashboard's (every row), and an operational list without reading
    the retention data."""
    from reports import retention, selectors

    params = {"as_of": date(2024, 6, 30), "months": 12, "filters": {}, "today": date(2024, 7, 1)}
    person = ParticipantFactory(status="housed")
    ActionPlanFactory(participant=person, agreed_on=date(2023, 6, 1), review_on=date(2024, 1, 1))
    board = selectors.dashboard(**params, include_protected=False)
    assert {"caseload", "overdue-reviews", "summary", "breakdown-landlord"} <= set(board.tables)
    assert board.tables["overdue-reviews"].rows and board.tables["caseload"].rows
    for key, table in board.tables.items():
        alone = selectors.dashboard_table(key, **params, include_protected=False)
        assert (alone.title, alone.columns, alone.rows) == (table.title, table.columns, table.rows)
    assert selectors.dashboard_table("nope", **params) is None

    def no_retention(**kwargs):
        raise AssertionError("an operational list read the retention data")

    monkeypatch.setattr(retention, "load", no_retention)
    for key in ("outcomes", "caseload", "overdue-reviews", "eviction-risks", "crisis-occupancy"):
        assert selectors.dashboard_table(key, **params).key == key
