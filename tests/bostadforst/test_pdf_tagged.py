"""Accessible PDFs (issue 13): every PDF ``bostadforst.pdf.render_pdf`` makes is
a tagged PDF/UA-1 document with its language and title, and the board report's
charts keep every word of their labels.

The PDFs are rendered for real (WeasyPrint, no mocks) and opened with pypdf:
the catalog (/StructTreeRoot, /MarkInfo, /Lang, /ViewerPreferences), the
document info and XMP title, and the structure tree (headings, tables with
header cells, figures with /Alt) are read back from the bytes.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from bostadforst.pdf import PDF_CREATOR, UntitledDocument, render_pdf
from housing.models import ContractType, ExitReason
from participants.models import ParticipantStatus, ReferralStatus
from reports import charts
from support.models import LifeArea
from tests.factories import UserFactory
from tests.housing.factories import ApartmentFactory, LandlordFactory, TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import ActionPlanFactory

# A district-style landlord name of about 100 characters with spaces, and one
# of 102 characters without a single space, the worst case for wrapping.
LONG_LANDLORD = (
    "Stiftelsen Hyresbostäder i Norra Storstadsregionens Samverkande "
    "Kommuner och Landsting Ek. för."
)
UNBROKEN_LANDLORD = "Fastighetsaktiebolaget" + "Norrbyskär" * 8


@dataclass
class Tagged:
    """What a tagged PDF says about itself, read back with pypdf."""

    reader: PdfReader
    # The structure elements in document order: (type without "/", element).
    elements: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def catalog(self):
        return self.reader.trailer["/Root"]

    def of_type(self, kind: str) -> list[dict]:
        return [element for s, element in self.elements if s == kind]

    @property
    def kinds(self) -> list[str]:
        return [s for s, _element in self.elements]

    @property
    def xmp(self) -> str:
        return self.catalog["/Metadata"].get_object().get_data().decode()

    @property
    def text(self) -> str:
        return "\n".join(page.extract_text() for page in self.reader.pages)


def tagged(data: bytes) -> Tagged:
    reader = PdfReader(io.BytesIO(data))
    result = Tagged(reader)
    root = reader.trailer["/Root"].get("/StructTreeRoot")

    def walk(node) -> None:
        node = node.get_object()
        if "/S" in node:
            result.elements.append((str(node["/S"]).lstrip("/"), node))
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict):  # not a marked-content id
                walk(kid)

    if root is not None:
        walk(root)
    return result


def html_title(source: str) -> str:
    """The <title> of a rendered template, as a browser would show it."""
    match = re.search(r"<title>(.*?)</title>", source, re.S)
    assert match, "the template has no <title>"
    return " ".join(html.unescape(match.group(1)).split())


def assert_tagged(doc: Tagged, *, lang: str, title: str) -> None:
    catalog = doc.catalog
    assert "/StructTreeRoot" in catalog, "the PDF is not tagged"
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert str(catalog["/Lang"]).lower() in (lang, f"{lang}-se" if lang == "sv" else lang)
    assert doc.reader.metadata["/Title"] == title
    assert f">{title}</rdf:li>" in doc.xmp.replace("&amp;", "&")  # dc:title
    assert 'pdfuaid:part="1"' in doc.xmp
    assert doc.reader.metadata["/Author"] == PDF_CREATOR
    assert doc.kinds[0] == "Document"


def heading_levels(doc: Tagged) -> list[int]:
    return [int(kind[1]) for kind in doc.kinds if re.fullmatch(r"H[1-6]", kind)]


# --- The board report -----------------------------------------------------------


@pytest.fixture
def board_context(db):
    """A cohort whose breakdowns carry the longest labels the report can show:
    both contract types, a 100-character landlord name with spaces and one
    without, and an eviction (an exit reason) so that not every rate is 100 %."""
    from reports.models import Report
    from reports.presentation import report_context
    from reports.services import report_figures

    def housed(landlord, contract_type, move_in, **kwargs):
        return TenancyFactory(
            participant=ParticipantFactory(imported=True, status=ParticipantStatus.HOUSED),
            apartment=ApartmentFactory(landlord=landlord),
            contract_type=contract_type,
            move_in=move_in,
            **kwargs,
        )

    long_name = LandlordFactory(name=LONG_LANDLORD)
    unbroken = LandlordFactory(name=UNBROKEN_LANDLORD)
    for _ in range(4):
        housed(long_name, ContractType.FIRST_HAND, datetime.date(2022, 1, 1))
    social = housed(unbroken, ContractType.SOCIAL, datetime.date(2022, 2, 1))
    social.takeover = datetime.date(2023, 2, 1)
    social.save()
    housed(
        unbroken,
        ContractType.SOCIAL,
        datetime.date(2022, 3, 1),
        move_out=datetime.date(2023, 1, 1),
        exit_reason=ExitReason.EVICTED,
    )
    # Approved on 2021-12-01 and housed on 2022-01-01: the waiting-time curve.
    ReferralFactory(
        participant=social.participant,
        status=ReferralStatus.APPROVED,
        decided_by=UserFactory(),
        decided_at=datetime.datetime(2021, 12, 1, 12, tzinfo=datetime.UTC),
    )
    report = Report.objects.create(as_of=datetime.date(2024, 6, 30), title="Styrelsen")
    figures = report_figures(as_of=report.as_of, months=0, filters={})
    return report_context(report=report, figures=figures)


@pytest.fixture
def board_pdf(board_context) -> tuple[bytes, str]:
    """The board report's PDF and the HTML it was made from."""
    from reports.pdf import render_report_pdf

    with translation.override("sv"):
        source = render_to_string(
            "reports/report_pdf.html",
            {**board_context, "municipality_name": settings.MUNICIPALITY_NAME},
        )
    return render_report_pdf(context=board_context), source


def test_the_board_report_is_tagged_with_its_language_and_title(board_pdf):
    data, source = board_pdf
    doc = tagged(data)
    title = html_title(source)
    assert "Styrelsen" in title and "2024-06-30" in title
    assert_tagged(doc, lang="sv", title=title)


def test_the_board_report_has_one_h1_and_headings_in_order(board_pdf):
    levels = heading_levels(tagged(board_pdf[0]))
    assert levels.count(1) == 1 and levels[0] == 1
    assert 2 in levels and 3 in levels
    # No level is skipped on the way down (h1 → h3 without an h2).
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def test_the_board_reports_tables_have_header_cells_and_captions(board_pdf):
    doc = tagged(board_pdf[0])
    tables = doc.of_type("Table")
    assert len(tables) >= 6  # figures, trend, survival, six breakdowns
    assert len(doc.of_type("Caption")) == len(tables)
    assert doc.of_type("TH") and doc.of_type("TD")
    # Row headers: a data cell of the summary names its header cells, the
    # column's and the row's (the measure), so a screen reader reads both.
    headers = [len(td["/A"]["/Headers"]) for td in doc.of_type("TD")]
    assert headers and min(headers) == 2


def test_every_chart_is_a_figure_whose_alt_states_its_key_figures(board_pdf):
    figures = tagged(board_pdf[0]).of_type("Figure")
    alts = [str(figure.get("/Alt", "")) for figure in figures]
    # Trend, the three Kaplan–Meier curves and one per breakdown (six, with
    # referring unit and provider).
    assert len(alts) == 10, alts
    assert all(alts), alts
    by_contract = next(alt for alt in alts if "kontraktsform" in alt)
    assert "Förstahandskontrakt i hyresgästens namn: 100 % (n=4)" in by_contract
    assert "Socialt kontrakt (kommunen hyr ut i andra hand): 50 % (n=2)" in by_contract
    assert "Mål 80 %" in by_contract
    trend = next(alt for alt in alts if "kvartal" in alt)
    assert "2024 Q2" in trend and "%" in trend
    survival = next(alt for alt in alts if "månader" in alt.lower())
    assert "efter 12 månader:" in survival
    waiting = next(alt for alt in alts if "väntar" in alt.lower())
    assert "månader sedan beviljandet" in waiting.lower()
    takeover = next(alt for alt in alts if "förstahandskontrakt efter" in alt.lower())
    assert "%" in takeover


def test_no_chart_label_is_cut_in_the_board_report(board_pdf, board_context):
    data, _source = board_pdf
    text = tagged(data).text
    squeezed = "".join(text.split())
    assert "…" not in text
    labels = [
        str(ContractType.FIRST_HAND.label),
        str(ContractType.SOCIAL.label),
        LONG_LANDLORD,
        UNBROKEN_LANDLORD,
    ]
    with translation.override("sv"):
        labels = [str(translation.gettext(label)) for label in labels]
    for label in labels:
        for word in label.split():
            # Wrapped lines end where the PDF's text lines do; each word is whole
            # unless it is wider than a line, then its pieces follow each other.
            assert word in text or word in squeezed, f"{word!r} of {label!r} is cut"
    # The tables carry the names in full anyway: the charts' own text must too.
    drawn = html.unescape(
        "".join(
            "".join(re.findall(r"<text[^>]*>([^<]*)</text>", chart.svg))
            for chart in board_context["charts"]["breakdowns"].values()
        )
    )
    assert "…" not in drawn
    for label in labels:
        assert "".join(label.split()) in "".join(drawn.split()), f"{label!r} is cut in its chart"


def test_the_board_report_reads_heading_before_its_table(board_pdf):
    text = tagged(board_pdf[0]).text
    order = [
        "Kvarboende i Bostad först",  # h1
        "Siffror",  # h2
        "Mått",  # its table's header
        "Uppföljningstid (månader)",  # a row of it
        "Boendets varaktighet",
        "Följda vid månadens",
        "Uppdelningar",
        "Per kontraktsform (första boendet)",
        "Definitioner",
        "Alla vars första inflyttning",
    ]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, dict(zip(order, positions, strict=True))
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))


def test_weasyprint_reports_nothing_missing_for_accessibility(board_context, caplog):
    """WeasyPrint logs an error for an image without alt and a document
    without lang; the board report gives it neither."""
    from reports.pdf import render_report_pdf

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_report_pdf(context=board_context)
    assert not accessibility_complaints(caplog), caplog.text


def accessibility_complaints(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("weasyprint")
        and ("alt" in record.getMessage() or "lang" in record.getMessage())
    ]


def test_weasyprint_complains_about_an_image_without_alt(caplog):
    """The control for the test above: the complaint it looks for exists."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>'
    pixel = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(f"<html lang='sv'><head><title>T</title></head><img src='{pixel}'></html>")
    assert accessibility_complaints(caplog)


# --- The tenant's action plan ----------------------------------------------------


@pytest.fixture
def plan(db, support_staff):
    person = ParticipantFactory(support_worker=support_staff, status=ParticipantStatus.HOUSED)
    TenancyFactory(participant=person)
    plan = ActionPlanFactory(participant=person, created_by=support_staff)
    plan.goals.create(life_area=LifeArea.HOUSING, text="Bo kvar i min lägenhet")
    plan.goals.create(life_area=LifeArea.HEALTH, text="Gå till vårdcentralen")
    return plan


@pytest.mark.parametrize(
    ("language", "title_word", "h1"), [("sv", "Min plan", "Min plan"), ("en", "My plan", "My plan")]
)
def test_the_action_plan_pdf_is_tagged_in_the_language_it_is_written_in(
    plan, ss_client, language, title_word, h1
):
    ss_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = ss_client.get(reverse("support:plan-pdf", kwargs={"pk": plan.pk}))
    assert response.status_code == 200
    doc = tagged(response.content)
    title = f"{title_word} {plan.agreed_on:%Y-%m-%d}"
    assert_tagged(doc, lang=language, title=title)
    levels = heading_levels(doc)
    assert levels.count(1) == 1 and levels[0] == 1
    assert levels.count(3) == 2  # one per goal, under "My goals and who does what"
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels
    text = doc.text
    assert text.find(h1) < text.find("Bo kvar i min lägenhet") < text.find("vårdcentralen")


# --- The one renderer -------------------------------------------------------------


def test_a_document_without_a_title_is_refused():
    with pytest.raises(UntitledDocument):
        render_pdf("<html lang='sv'><body><h1>Utan titel</h1></body></html>")


def test_a_document_without_lang_gets_the_active_language():
    with translation.override("en"):
        data = render_pdf("<html><head><title>T</title></head><body><p>x</p></body></html>")
    assert str(tagged(data).catalog["/Lang"]) == "en"


# --- Wrapping chart labels --------------------------------------------------------

LABELS = [
    *[str(label) for label in ContractType.labels],
    *[str(label) for label in ExitReason.labels],
    LONG_LANDLORD,
    UNBROKEN_LANDLORD,
]


def dejavu_width():
    """The real advance width function of DejaVu Sans, if the font is here."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        pytest.skip("fontconfig is not installed")
    path = subprocess.run(
        [fc_match, "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True, check=True
    ).stdout
    if "DejaVuSans" not in path:
        pytest.skip("DejaVu Sans is not installed")
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    cmap, hmtx, units = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm

    def width(text: str, size: float) -> float:
        return sum(hmtx[cmap.get(ord(c), cmap[ord("?")])][0] for c in text) / units * size

    return width


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("room", [120, 190, 600])
def test_a_wrapped_label_keeps_every_character_and_fits_its_room(label, room):
    real_width = dejavu_width()
    with translation.override("sv"):
        label = str(translation.gettext(label))
    lines = charts.wrap(label, room)
    assert "".join("".join(lines).split()) == "".join(label.split())
    for line in lines:
        assert real_width(line, 11) <= room, (line, real_width(line, 11), room)


@given(st.text(alphabet=st.characters(codec="latin-1", categories=["L", "N", "P", "Zs"])))
def test_wrapping_never_drops_a_character(text):
    lines = charts.wrap(text, 80)
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(charts.text_width(line, 11) <= 80 for line in lines)


def test_the_bar_chart_grows_for_wrapped_labels_and_states_them_in_its_alt():
    short = charts.bar_chart([("A", 0.5, 2)], title="T", desc="D")
    long = charts.bar_chart([(UNBROKEN_LANDLORD * 3, 0.5, 2)], title="T", desc="D", width=320)
    assert long.height > short.height
    assert UNBROKEN_LANDLORD * 3 in long.alt
    assert "…" not in long.svg
    drawn = html.unescape("".join(re.findall(r"<text[^>]*>([^<]*)</text>", long.svg)))
    assert UNBROKEN_LANDLORD * 3 in drawn
