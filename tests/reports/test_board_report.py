"""The board report beside retention (issue 18 item 2): the cohort's outcomes
from move-in to 12 and 24 months and the team's latest fidelity score, in the
PDF a unit manager orders and on the stored report's page; never a person's
own words about their quality of life, nor a fidelity comment; the figures in
a fixed number of queries; and ``reports`` never imports ``fidelity`` (the
score comes through ``bostadforst.registry.board_report_sources``)."""

from __future__ import annotations

import ast
import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from fidelity.services import assessment_create
from housing.models import ContractType
from reports.models import Report
from tests.fidelity.factories import DomainFactory, ItemFactory
from tests.support.factories import OutcomeFollowUpFactory

AS_OF = datetime.date(2024, 6, 30)
OWN_WORDS = "Jag sover äntligen hela nätterna"
COMMENT = "Kommentaren om hyresvärden som aldrig står i rapporten"


def follow_up(person, day: str, occupation, addiction, psychiatric, qol, contract, **kwargs):
    return OutcomeFollowUpFactory(
        participant=person,
        date=datetime.date.fromisoformat(day),
        occupation=occupation,
        addiction_care=addiction,
        psychiatric_care=psychiatric,
        quality_of_life=qol,
        contract_form=contract,
        own_words=kwargs.pop("own_words", OWN_WORDS),
        **kwargs,
    )


@pytest.fixture
def board(db, tenancy, fidelity_scale, unit_manager):
    """Two people with follow-ups at move-in and after a year (one also at two
    years), every follow-up with own words; three fidelity assessments, the
    middle one the latest on or before the reference date.

    Expected outcomes on 2024-06-30: occupation 50 % (n = 2) at move-in and
    12 months, 100 % (n = 1) at 24 months; quality of life 4,0 → 6,5 → 8,0.
    Expected fidelity (2024-05-15): domain A (4 and 2 on 1–4) 66,7 %, domain
    B (4) 100,0 %, overall 83,3 %."""
    a = tenancy(move_in="2022-01-01", contract_type=ContractType.SOCIAL).participant
    b = tenancy(move_in="2022-03-01", contract_type=ContractType.SOCIAL).participant
    follow_up(a, "2022-01-10", "none", "yes", "no", 3, "social")
    follow_up(a, "2023-01-05", "employment", "no", "no", 7, "first_hand")
    follow_up(a, "2024-01-02", "employment", "no", "unknown", 8, "first_hand")
    follow_up(b, "2022-03-01", "day_activity", "yes", "yes", 5, "social")
    follow_up(b, "2023-03-01", "none", "yes", "yes", 6, "social")

    first, second = fidelity_scale
    for day, values in (
        ("2023-01-10", (1, 1, 1)),
        ("2024-05-15", (4, 2, 4)),
        ("2024-08-01", (1, 1, 1)),  # after the reference date: not this report's
    ):
        assessment_create(
            date=datetime.date.fromisoformat(day),
            staff=[unit_manager],
            external_count=0,
            external_description="",
            scores={
                item: (value, COMMENT)
                for item, value in zip([*first, *second], values, strict=True)
            },
            acting_user=unit_manager,
        )
    return a, b


@pytest.fixture
def fidelity_scale(db):
    """Two domains of the test's own (items of 1–4): two items and one."""
    first = DomainFactory(name="Testdomän boendet", order=1000)
    second = DomainFactory(name="Testdomän stödet", order=1001)
    return (
        [ItemFactory(domain=first), ItemFactory(domain=first)],
        [ItemFactory(domain=second)],
    )


def board_pdf_bytes(as_of=AS_OF, filters=None) -> tuple[bytes, str]:
    """The board PDF and the HTML it was made from."""
    from reports.pdf import render_report_pdf
    from reports.presentation import report_context
    from reports.services import report_figures

    report = Report(as_of=as_of, title="Styrelsen", filters=filters or {})
    figures = report_figures(as_of=as_of, months=0, filters=filters or {})
    context = report_context(report=report, figures=figures)
    with translation.override("sv"):
        source = render_to_string(
            "reports/report_pdf.html", {**context, "municipality_name": settings.MUNICIPALITY_NAME}
        )
    return render_report_pdf(context=context), source


def board_pdf(as_of=AS_OF, filters=None) -> tuple[str, str]:
    """The board PDF's text and the HTML it was made from."""
    data, source = board_pdf_bytes(as_of, filters)
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), source


def squeezed(text: str) -> str:
    """Without whitespace: table cells wrap where the PDF's lines do."""
    return "".join(text.split())


def test_the_board_pdf_shows_the_outcomes_and_the_fidelity_score_beside_retention(board):
    text, _source = board_pdf()
    flat = squeezed(text)

    assert "Utfall från inflyttning till 12 och 24 månader" in text
    # Occupation: 50 % at move-in and at 12 months, 100 % of one at 24.
    assert "Någonsysselsättning50%(n=2)50%(n=2)100%(n=1)+0+50" in flat
    # Quality of life, the mean of the ratings: 4,0 → 6,5 → 8,0.
    assert "4,0(n=2)6,5(n=2)8,0(n=1)+2,5+4,0" in flat
    # First-hand contract: nobody at move-in, one of two at 12 months.
    assert "Förstahandskontrakt0%(n=2)50%(n=2)100%(n=1)+50+100" in flat

    assert "Teamets trohet mot modellen" in text
    assert "2024-05-15" in text and "2024-08-01" not in text
    assert "Testdomänboendet66,7%2" in flat
    assert "Testdomänstödet100,0%1" in flat
    assert "83,3%3" in flat  # overall, of three items scored
    assert "83 % totalt" in text.replace("\xa0", " ")

    # Beside retention: after the curves, before the breakdowns.
    order = [
        "Kvarboende i Bostad först",
        "Utfall från inflyttning",
        "Teamets trohet",
        "Uppdelningar",
    ]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions and positions == sorted(positions), positions


def test_the_new_sections_keep_the_pdf_tagged(board):
    """Headings in order, every table with its caption and header cells."""
    from tests.bostadforst.test_pdf_tagged import heading_levels, tagged

    doc = tagged(board_pdf_bytes()[0])
    tables = doc.of_type("Table")
    assert len(tables) >= 12  # summary, curves, breakdowns, outcomes, fidelity
    assert len(doc.of_type("Caption")) == len(tables)
    levels = heading_levels(doc)
    assert levels.count(1) == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def test_no_own_words_or_fidelity_comment_reach_the_board_pdf(board):
    text, source = board_pdf()
    for words in (OWN_WORDS, COMMENT):
        assert words not in text and words not in squeezed(text)
        assert words not in source


def test_a_filtered_report_says_the_outcomes_are_the_whole_cohorts(board):
    text, _source = board_pdf(filters={"contract_type": ContractType.SOCIAL})
    note = "Filtren för hyresvärd, kontraktsform, inflyttningsår och målgrupp gäller inte utfallen"
    assert note in " ".join(text.split())
    assert note not in " ".join(board_pdf()[0].split())


def test_a_filtered_report_names_its_filters_on_the_first_page(board):
    """The board must see whose figures they are: each filter by its name,
    the orderer's own row scope like a unit or provider filter."""
    from tests.housing.factories import ProviderFactory
    from tests.participants.factories import ReferringUnitFactory

    unit = ReferringUnitFactory(name="Stadsdel Norr")
    provider = ProviderFactory(name="Stadsmissionen IOP")
    text, _source = board_pdf(
        filters={
            "contract_type": ContractType.SOCIAL,
            "unit": unit.pk,
            "scope_provider": provider.pk,
        }
    )
    first_page = " ".join(text.split("Styrelsen", 1)[-1].split())
    assert "Urval: " in first_page
    assert "Remitterande enhet: Stadsdel Norr" in first_page
    assert "Stadsmissionen IOP" in first_page
    assert "Socialt kontrakt" in first_page
    assert "Urval" not in " ".join(board_pdf()[0].split())


def test_without_an_assessment_the_report_says_so(db, tenancy):
    tenancy(move_in="2022-01-01")
    text, _source = board_pdf()
    assert "Ingen självskattning av modelltroheten före eller på referensdatumet" in " ".join(
        text.split()
    )


def test_the_stored_report_shows_the_same_after_its_figures_were_stored(
    board, um_client, django_capture_on_commit_callbacks
):
    """The figures go through JSON (points become text keys) and the page and
    the downloads read them back."""
    with django_capture_on_commit_callbacks(execute=True):
        um_client.post(reverse("reports:report-list"), {"as_of": "2024-06-30", "months": "0"})
    report = Report.objects.get()
    assert report.state == Report.State.DONE, report.error
    assert set(report.figures["outcomes"]["occupation"]["values"]) == {"0", "12", "24"}
    page = um_client.get(report.get_absolute_url()).content.decode()
    assert "Utfall från inflyttning till 12 och 24 månader" in page
    assert "50 % (n = 2)" in page
    assert "Teamets trohet mot modellen" in page and "2024-05-15" in page
    assert OWN_WORDS not in page and COMMENT not in page
    csv = um_client.get(
        reverse("reports:report-csv", kwargs={"pk": report.pk, "table": "fidelity"})
    )
    body = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode("utf-8-sig")
    assert "Testdomän stödet;1" in body
    csv = um_client.get(
        reverse("reports:report-csv", kwargs={"pk": report.pk, "table": "outcomes"})
    )
    assert csv.status_code == 200


def test_a_report_stored_before_the_outcomes_still_renders(um_client):
    report = Report.objects.create(
        as_of=AS_OF,
        state=Report.State.DONE,
        figures={
            "as_of": "2024-06-30",
            "months": 0,
            "filters": {},
            "cohort": 0,
            "housed": 0,
            "moved_on": 0,
            "lost": 0,
            "deceased": 0,
            "retention_rate": None,
            "retention_rate_incl_deceased": None,
            "target": 0.8,
            "meets_target": None,
            "takeover_share": None,
            "breakdown": {},
        },
    )
    assert um_client.get(report.get_absolute_url()).status_code == 200


def _figure_queries(as_of=AS_OF) -> int:
    from reports.services import report_figures

    with CaptureQueriesContext(connection) as queries:
        report_figures(as_of=as_of, months=0, filters={})
    return len(queries)


def test_the_report_figures_take_the_same_queries_at_any_size(board, tenancy, unit_manager):
    small = _figure_queries()
    for index in range(6):
        person = tenancy(move_in=f"2022-0{index + 1}-15").participant
        follow_up(person, f"2022-0{index + 1}-15", "studies", "no", "no", 6, "social")
        follow_up(person, f"2023-0{index + 1}-20", "studies", "no", "no", 7, "first_hand")
    assert _figure_queries() == small


def test_reports_never_import_the_fidelity_app():
    """STYLE.md, Layering: fidelity imports reports (its charts); the score
    reaches the report through the registry instead."""
    for path in Path(settings.BASE_DIR, "reports").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "fidelity" for name in names), path
