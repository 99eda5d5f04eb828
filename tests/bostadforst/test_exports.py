"""Every export goes through one place: CSV and .xlsx through
``bostadforst.exports`` (cells a spreadsheet would run as formulas are
neutralised in CSV and written as string cells in .xlsx, PITFALLS #13) and PDF
through ``bostadforst.pdf.render_pdf`` (a fetcher that reads only the app's own
static files and ``data:``, PITFALLS #5).

The walk plants formula-looking values in the demo data, GETs every route of
the resolver as every role the access table allows, follows the CSV, .xlsx and
PDF links those pages offer, and checks what comes back: every .xlsx re-opens
with the same values as its CSV twin. A new export is covered without touching
this file; one that bypasses the helpers fails here or in the static check
below.
"""

import ast
import csv
import html
import io
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from pypdf import PdfReader

from bostadforst.models import AccessLogEntry, User
from bostadforst.permissions import ACCESS_TABLE
from bostadforst.roles import Role
from housing.models import Landlord
from participants.models import Participant
from support.models import CrisisPlace

from ..urlwalk import project_routes
from ..world import local_apps

# What a spreadsheet treats as the start of a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A cell that is a negative number, written from an int or Decimal: no formula.
NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")

KNOWN_CSV_ROUTES = {
    "reports:dashboard-csv",
    "reports:report-csv",
    "bostadforst:access-log-export",
    "participants:participant-list-csv",
    "support:my-participants-csv",
}
KNOWN_XLSX_ROUTES = {
    "reports:dashboard-xlsx",
    "reports:report-xlsx",
    "bostadforst:access-log-export-xlsx",
    "participants:participant-list-xlsx",
    "support:my-participants-xlsx",
}
# Routes whose rows depend on the download itself (each one logs a row).
# Workbooks of several tables (a README sheet first), which no single CSV
# can hold: no CSV twin to compare with.
WORKBOOK_ONLY_ROUTES = {"reports:research-export-xlsx"}
GROWING_ROUTES = {"bostadforst:access-log-export", "bostadforst:access-log-export-xlsx"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KNOWN_PDF_ROUTES = {"support:plan-pdf", "reports:report-pdf"}

pytestmark = pytest.mark.django_db

FORMULA_USERNAME = '=HYPERLINK("http://evil.example/log","x")'


@dataclass
class Walk:
    # route name -> [(url, role, rows)]
    csv: dict[str, list[tuple[str, str, list[list[str]]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # route name -> [(url, role, bytes)]
    pdf: dict[str, list[tuple[str, str, bytes]]] = field(default_factory=lambda: defaultdict(list))
    # route name -> [(url, role, worksheet)]
    xlsx: dict[str, list[tuple[str, str, object]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (role, url) -> rows of every CSV download, to pair each .xlsx with its twin
    csv_by_url: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)


def plant_formulas() -> None:
    """Give every kind of text an export shows a value that starts a formula."""
    for pk in Landlord.objects.values_list("pk", flat=True):
        Landlord.objects.filter(pk=pk).update(
            name=f'=HYPERLINK("http://evil.example/{pk}","landlord")'
        )
    for pk in Participant.objects.values_list("pk", flat=True):
        Participant.objects.filter(pk=pk).update(first_name="+cmd", external_ref=f"@ref-{pk}")
    User.objects.update(first_name="-2+3")
    for pk in CrisisPlace.objects.values_list("pk", flat=True):
        CrisisPlace.objects.filter(pk=pk).update(name=f"\t=1+{pk}")
    AccessLogEntry.objects.create(
        username=FORMULA_USERNAME, action=AccessLogEntry.Action.LOGIN_FAILED, ip="10.0.0.1"
    )


def stored_reports() -> None:
    """Finished reports with figures and a PDF, computed after the planting, so
    the report CSV and PDF routes show the planted landlords."""
    from reports.models import Report
    from reports.services import report_run

    if not Report.objects.exists():
        Report.objects.create(as_of=timezone.localdate())
    Report.objects.update(state=Report.State.QUEUED, started_at=None)
    for pk in Report.objects.values_list("pk", flat=True):
        assert report_run(report_id=pk) == Report.State.DONE


def content_of(response) -> bytes:
    if response.streaming:
        # Reading it to the end closes it, the way the test client does: an
        # explicit close() would send request_finished, which on PostgreSQL
        # closes the connection of the module's open transaction.
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(data: bytes) -> list[list[str]]:
    """The download's rows, in the format every web export shares (BOM, ``;``)."""
    assert data.startswith("\ufeff".encode()), "a CSV download without the BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def local_links(body: str) -> set[str]:
    return {
        html.unescape(href)
        for href in re.findall(r'href="([^"]+)"', body)
        if href.startswith("/") and not href.startswith("//")
    }


@pytest.fixture(scope="module")
def planted(world, django_db_blocker):
    with django_db_blocker.unblock():
        plant_formulas()
    return world


@pytest.fixture(scope="module")
def walk(planted, django_db_blocker, tmp_path_factory) -> Walk:
    world = planted
    media = tmp_path_factory.mktemp("media")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    result = Walk()
    clients = {role: world.client(role) for role in Role}
    pages: list[tuple[Role, str]] = []
    visited: set[tuple[Role, str]] = set()

    def get(name: str, url: str, role: Role) -> None:
        visited.add((role, url))
        response = clients[role].get(url)
        if response.status_code != 200:
            return
        content_type = response.get("Content-Type", "")
        data = content_of(response)
        if content_type.startswith("text/csv"):
            result.csv[name].append((url, role.value, csv_rows(data)))
            result.csv_by_url[(role.value, url)] = csv_rows(data)
        elif content_type == XLSX_TYPE:
            result.xlsx[name].append((url, role.value, xlsx_sheet(data)))
        elif content_type.startswith("application/pdf"):
            result.pdf[name].append((url, role.value, data))
        elif content_type.startswith("text/html"):
            pages.append((role, data.decode()))

    with django_db_blocker.unblock(), override_settings(STORAGES=storages):
        stored_reports()
        for route in project_routes():
            if route.name not in ACCESS_TABLE:
                continue
            url = reverse(route.name, kwargs=world.url_kwargs(route))
            for role in sorted(ACCESS_TABLE[route.name]):
                get(route.name, url, Role(role))
        # The samples name one table per CSV route; the pages link to all of them.
        exports = set(result.csv) | set(result.pdf) | set(result.xlsx)
        for role, body in pages:
            for link in local_links(body):
                try:
                    name = resolve(urlsplit(link).path).view_name
                except Resolver404:
                    continue
                if name in exports and (role, link) not in visited:
                    get(name, link, role)
    return result


def formula_cells(rows: list[list[str]]) -> list[str]:
    return [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_START) and not NEGATIVE_NUMBER.fullmatch(cell)
    ]


# --- (a) CSV from the walk ------------------------------------------------------


def test_no_csv_export_has_a_cell_that_starts_a_formula(walk):
    offenders = {
        f"{url} as {role}": cells[:3]
        for downloads in walk.csv.values()
        for url, role, rows in downloads
        if (cells := formula_cells(rows))
    }
    assert not offenders, f"CSV cells a spreadsheet would run as formulas: {offenders}"


def test_the_walk_reaches_the_known_csv_and_pdf_exports(walk):
    assert set(walk.csv) >= KNOWN_CSV_ROUTES, sorted(walk.csv)
    assert set(walk.pdf) >= KNOWN_PDF_ROUTES, sorted(walk.pdf)
    # Following the dashboard's links reaches every table, not only the sample's.
    assert len(walk.csv["reports:dashboard-csv"]) > 5


def test_the_planted_formulas_reach_every_known_csv_export_as_text(walk):
    """Without this the walk above could pass by never seeing a planted value."""
    for name in KNOWN_CSV_ROUTES:
        escaped = [
            cell
            for _url, _role, rows in walk.csv[name]
            for row in rows
            for cell in row
            if cell.startswith("'") and cell[1:].startswith(FORMULA_START)
        ]
        assert escaped, f"no planted formula reached {name}"
    landlords = [
        cell
        for _url, _role, rows in walk.csv["reports:dashboard-csv"]
        for row in rows
        for cell in row
    ]
    assert any(cell.startswith("'=HYPERLINK(\"http://evil.example/") for cell in landlords)


def test_the_retention_report_command_writes_safe_csv(planted, tmp_path):
    out = tmp_path / "r.csv"
    as_of = timezone.localdate().isoformat()
    call_command("retention_report", "--as-of", as_of, "--format", "csv", "--output", str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["group_by", "group"]
    assert not formula_cells(rows)
    assert any(row[0] == "landlord" and row[1].startswith("'=HYPERLINK(") for row in rows)


# --- (a2) .xlsx from the walk ----------------------------------------------------


def as_csv_text(cell) -> str:
    """A re-opened .xlsx cell as the CSV twin writes the same value."""
    from bostadforst.exports import DATE_FORMAT, safe_cell

    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime):
        if cell.number_format == DATE_FORMAT:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return safe_cell(value)
    return str(value)


def same_cell(csv_cell: str, xlsx_cell) -> bool:
    if isinstance(xlsx_cell.value, int | float) and not isinstance(xlsx_cell.value, bool):
        try:
            return math.isclose(float(csv_cell), xlsx_cell.value, abs_tol=1e-9)
        except ValueError:
            return False
    return csv_cell == as_csv_text(xlsx_cell)


def same_row(csv_row: list[str], xlsx_row) -> bool:
    cells = list(xlsx_row)
    # A row's trailing empty cells are not stored in the .xlsx.
    csv_row = csv_row + [""] * (len(cells) - len(csv_row))
    cells += [None] * (len(csv_row) - len(cells))
    return all(
        (cell is None and text == "") or (cell is not None and same_cell(text, cell))
        for text, cell in zip(csv_row, cells, strict=True)
    )


def text_row(row, width: int) -> tuple[str, ...]:
    """An .xlsx row as the CSV's text (dates, times and text; whole numbers)."""
    texts = [as_csv_text(cell) for cell in row]
    return tuple(texts + [""] * (width - len(texts)))


def test_the_walk_reaches_every_known_xlsx_export(walk):
    assert set(walk.xlsx) >= KNOWN_XLSX_ROUTES, sorted(walk.xlsx)
    assert len(walk.xlsx["reports:dashboard-xlsx"]) > 5
    csv_names = {name.removesuffix("-csv") for name in walk.csv}
    xlsx_names = {
        name.removesuffix("-xlsx") for name in walk.xlsx if name not in WORKBOOK_ONLY_ROUTES
    }
    # Every CSV download has its .xlsx twin (the access log's is named -export-xlsx).
    assert {n.removesuffix("-export") for n in csv_names} == {
        n.removesuffix("-export") for n in xlsx_names
    }


def test_no_xlsx_export_has_a_formula_and_planted_formulas_stay_text(walk):
    formulas = {
        f"{url} as {role}": cell.coordinate
        for downloads in walk.xlsx.values()
        for url, role, sheet in downloads
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    assert not formulas, f"formula cells in .xlsx downloads: {formulas}"
    for name in KNOWN_XLSX_ROUTES:
        planted = [
            cell
            for _url, _role, sheet in walk.xlsx[name]
            for row in sheet.iter_rows(min_row=2)
            for cell in row
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)
        ]
        assert planted, f"no planted formula reached {name}"
        assert {cell.data_type for cell in planted} == {"s"}
    texts = {
        cell.value
        for _url, _role, sheet in walk.xlsx["reports:dashboard-xlsx"]
        for row in sheet.iter_rows()
        for cell in row
    }
    assert any(
        isinstance(t, str) and t.startswith('=HYPERLINK("http://evil.example/') for t in texts
    )


def test_every_xlsx_reopens_with_the_same_values_as_its_csv_twin(walk):
    compared = 0
    for name, downloads in walk.xlsx.items():
        if name in WORKBOOK_ONLY_ROUTES:
            continue
        for url, role, sheet in downloads:
            path, _, query = url.partition("?")
            twin = path.removesuffix(".xlsx") + ".csv" + (f"?{query}" if query else "")
            csv_download = walk.csv_by_url.get((role, twin))
            assert csv_download is not None, f"{url} as {role} has no CSV twin at {twin}"
            rows = list(sheet.iter_rows())
            assert same_row(csv_download[0], rows[0]), (url, csv_download[0])
            if name in GROWING_ROUTES:
                # Each download logs itself: whichever came later has a row or
                # two more, and every row of the other.
                csv_lines = Counter(tuple(line) for line in csv_download[1:])
                xlsx_lines = Counter(text_row(row, len(csv_download[0])) for row in rows[1:])
                smaller, larger = sorted([csv_lines, xlsx_lines], key=lambda c: c.total())
                assert larger.total() - smaller.total() <= 3, url
                assert not smaller - larger, (url, list(smaller - larger)[:3])
            else:
                assert len(csv_download) == len(rows), url
                for line, row in zip(csv_download, rows, strict=True):
                    assert same_row(line, row), (url, line, [c.value for c in row])
            compared += 1
    assert compared >= len(KNOWN_XLSX_ROUTES)


def test_xlsx_headers_are_swedish_bold_and_frozen(walk):
    for downloads in walk.xlsx.values():
        for url, _role, sheet in downloads:
            assert sheet.freeze_panes == "A2", url
            header = [cell for cell in next(sheet.iter_rows(max_row=1))]
            assert all(cell.font.b for cell in header), url
            # No code names such as "username" or "group_by" as headings.
            codes = [c.value for c in header if re.fullmatch(r"[a-z_]+", str(c.value or ""))]
            assert not codes, (url, codes)

    def first_header(name: str) -> list:
        _url, _role, sheet = walk.xlsx[name][0]
        return [cell.value for cell in next(sheet.iter_rows(max_row=1))]

    assert first_header("bostadforst:access-log-export-xlsx")[:3] == [
        "När",
        "Användarnamn",
        "Roll",
    ]
    assert first_header("participants:participant-list-xlsx")[:2] == ["Namn", "Personnummer"]
    assert first_header("support:my-participants-xlsx")[:3] == [
        "Deltagare",
        "Personnummer",
        "Senaste besök",
    ]


def test_xlsx_dates_are_date_cells_and_rates_per_cent(walk):
    from bostadforst.exports import DATE_FORMAT, DATETIME_FORMAT, PERCENT_FORMAT

    trend = [
        sheet for url, _role, sheet in walk.xlsx["reports:dashboard-xlsx"] if "/trend.xlsx" in url
    ]
    assert trend, "the walk did not reach the trend table's .xlsx"
    rows = list(trend[0].iter_rows(min_row=2))
    assert rows
    for row in rows:
        assert row[0].is_date and row[0].number_format == DATE_FORMAT
        rate = row[6]  # Kvarboende
        if rate.value is not None:
            assert rate.data_type == "n" and rate.number_format == PERCENT_FORMAT
    assert any(row[6].value is not None for row in rows)
    _url, _role, log = walk.xlsx["bostadforst:access-log-export-xlsx"][0]
    stamps = [row[0] for row in log.iter_rows(min_row=2)]
    assert stamps and all(c.is_date and c.number_format == DATETIME_FORMAT for c in stamps)


def test_caseload_exports_log_every_person_in_the_file(planted, db):
    from participants.selectors import participant_list
    from support.selectors import caseload_for_user

    worker = planted.support_staff
    client = planted.client(worker)
    cases = [
        (
            reverse("participants:participant-list-xlsx"),
            {p.pk for p in participant_list(user=worker)},
        ),
        (
            reverse("support:my-participants-csv"),
            {
                row.participant.pk
                for row in caseload_for_user(user=worker, today=timezone.localdate())
            },
        ),
    ]
    for url, expected in cases:
        assert expected, url
        before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = client.get(url)
        assert response.status_code == 200, url
        content_of(response)
        logged = AccessLogEntry.objects.filter(pk__gt=before, user=worker)
        assert set(logged.values_list("action", flat=True)) == {AccessLogEntry.Action.EXPORT}
        assert set(logged.values_list("person_id", flat=True)) == expected, url


def test_participant_list_download_keeps_the_status_filter_and_refuses_a_bad_one(planted, db):
    client = planted.client(planted.support_staff)
    url = reverse("participants:participant-list-csv")
    housed = client.get(url, {"status": "housed"})
    everyone = client.get(url)
    housed_rows, all_rows = csv_rows(housed.content), csv_rows(everyone.content)
    assert 1 < len(housed_rows) < len(all_rows)
    assert {row[2] for row in housed_rows[1:]} == {"Har bostad"}
    bad = client.get(url, {"status": "nope"})
    assert bad.status_code == 400
    assert "Ogiltigt filter" in bad.content.decode()


def test_the_retention_report_command_writes_xlsx_for_an_xlsx_output(planted, tmp_path):
    from bostadforst.exports import PERCENT_FORMAT

    out = tmp_path / "r.xlsx"
    as_of = timezone.localdate().isoformat()
    call_command("retention_report", "--as-of", as_of, "--output", str(out))
    sheet = xlsx_sheet(out.read_bytes())
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Indelning", "Grupp", "Kohort"]
    assert sheet.freeze_panes == "A2"
    groups = [row[1] for row in sheet.iter_rows(min_row=2) if row[1].value is not None]
    assert groups and all(c.data_type == "s" for c in groups)
    assert any(c.value.startswith('=HYPERLINK("http://evil.example/') for c in groups)
    assert sheet["H2"].number_format == PERCENT_FORMAT


# --- (c) PDF from the walk ------------------------------------------------------


def test_every_pdf_is_rendered_through_render_pdf(walk):
    from bostadforst.pdf import PDF_CREATOR

    for name, downloads in walk.pdf.items():
        for url, role, data in downloads:
            creator = PdfReader(io.BytesIO(data)).metadata.get("/Creator")
            assert creator == PDF_CREATOR, (
                f"{name} ({url} as {role}) was not rendered by bostadforst.pdf.render_pdf"
            )


# --- (b) Static check: nobody else writes CSV or drives WeasyPrint ---------------

CSV_MODULE = "bostadforst/exports.py"
# What writes a workbook (reading one, openpyxl.load_workbook, is the import's job).
XLSX_WRITERS = {"Workbook", "WriteOnlyCell", "save_workbook", "save_virtual_workbook"}
PDF_MODULE = "bostadforst/pdf.py"


def export_bypasses(relative: str, source: str) -> list[str]:
    """What in ``source`` writes CSV or .xlsx or drives WeasyPrint outside the helpers."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if relative != CSV_MODULE:
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
                and node.attr in {"writer", "DictWriter"}
            ):
                found.append(f"{relative}:{line} csv.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "csv":
                names = {alias.name for alias in node.names} & {"writer", "DictWriter"}
                if names:
                    found.append(f"{relative}:{line} from csv import {sorted(names)}")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("text/csv")
            ):
                found.append(f"{relative}:{line} a text/csv response of its own")
        if relative != CSV_MODULE:
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == (
                "openpyxl"
            ):
                writers = {a.name for a in node.names} & XLSX_WRITERS
                if writers:
                    found.append(f"{relative}:{line} from {node.module} import {sorted(writers)}")
            if isinstance(node, ast.Attribute) and node.attr in XLSX_WRITERS:
                found.append(f"{relative}:{line} .{node.attr}")
            if isinstance(node, ast.Import | ast.ImportFrom) and any(
                (getattr(node, "module", None) or a.name).split(".")[0] == "xlsxwriter"
                for a in node.names
            ):
                found.append(f"{relative}:{line} xlsxwriter")
            if isinstance(node, ast.keyword) and node.arg == "write_only":
                found.append(f"{relative}:{line} write_only=")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("application/vnd.openxmlformats")
            ):
                found.append(f"{relative}:{line} an .xlsx response of its own")
        if relative != PDF_MODULE:
            if isinstance(node, ast.Import) and any(
                a.name.split(".")[0] == "weasyprint" for a in node.names
            ):
                found.append(f"{relative}:{line} import weasyprint")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == (
                "weasyprint"
            ):
                found.append(f"{relative}:{line} from {node.module} import ...")
            if isinstance(node, ast.keyword) and node.arg == "url_fetcher":
                found.append(f"{relative}:{line} url_fetcher=")
    return found


def test_only_the_export_helpers_write_csv_or_drive_weasyprint():
    offenders = []
    for app in local_apps():
        for path in sorted((settings.BASE_DIR / app).rglob("*.py")):
            relative = path.relative_to(settings.BASE_DIR).as_posix()
            offenders += export_bypasses(relative, path.read_text(encoding="utf-8"))
    assert not offenders, (
        "Write CSV and .xlsx with bostadforst.exports (download_response / write_csv / "
        f"write_xlsx) and PDF with bostadforst.pdf.render_pdf: {offenders}"
    )


def test_the_static_check_recognises_a_bypass():
    source = (
        "import csv\nfrom weasyprint import HTML\n"
        "w = csv.writer(out)\nHTML(string=s, url_fetcher=f)\n"
        "r = HttpResponse(content_type='text/csv')\n"
    )
    found = export_bypasses("reports/views.py", source)
    assert len(found) == 4, found
    assert not export_bypasses(CSV_MODULE, "import csv\nw = csv.writer(out)\n")
    xlsx = (
        "from openpyxl import Workbook, load_workbook\nimport openpyxl\nimport xlsxwriter\n"
        "wb = openpyxl.Workbook(write_only=True)\n"
        "r = HttpResponse(content_type='application/vnd.openxmlformats-officedocument."
        "spreadsheetml.sheet')\n"
    )
    found = export_bypasses("participants/views.py", xlsx)
    assert len(found) == 5, found
    assert not export_bypasses(CSV_MODULE, xlsx)
    # Reading a workbook (the import) is no export.
    assert not export_bypasses(
        "reports/cohort.py",
        "from openpyxl import load_workbook\nload_workbook(f, read_only=True)\n",
    )


# --- safe_cell and the writers ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-1+1",
        "-5",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
    ],
)
def test_safe_cell_makes_formula_starts_text(value):
    from bostadforst.exports import safe_cell

    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("Helsingborgshem", "Helsingborgshem"),
        ("a=b", "a=b"),
        (-3, -3),
        (Decimal("-0.25"), Decimal("-0.25")),
        (0.8333, 0.8333),
    ],
)
def test_safe_cell_keeps_plain_text_and_real_numbers(value, expected):
    from bostadforst.exports import safe_cell

    assert safe_cell(value) == expected


def test_csv_response_is_utf8_with_bom_semicolons_and_an_attachment():
    from bostadforst.exports import csv_response

    response = csv_response("t.csv", ["namn", "antal"], [["=1+1", -2], ["Åsa", 3]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'
    assert response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8-sig") == "namn;antal\r\n'=1+1;-2\r\nÅsa;3\r\n"


def test_write_csv_writes_safe_cells_to_a_file():
    from bostadforst.exports import write_csv

    out = io.StringIO()
    write_csv(out, ["group", "n"], [["@x", 1]], delimiter=",")
    assert out.getvalue() == "group,n\r\n'@x,1\r\n"


# --- the .xlsx writer and download_response ---------------------------------------


def xlsx_sheet(data: bytes):
    """The first sheet of a downloaded workbook, re-opened with openpyxl (every
    cell's type and number format, not only its value)."""
    from openpyxl import load_workbook

    assert data.startswith(b"PK"), "an .xlsx download that is not a zip file"
    return load_workbook(io.BytesIO(data)).worksheets[0]


def test_xlsx_response_writes_formula_text_as_string_cells():
    from bostadforst.exports import XLSX_CONTENT_TYPE, download_response

    planted = ['=HYPERLINK("http://evil.example","x")', "+1", "@SUM(A1)", "-1+1", "\t=1"]
    response = download_response("xlsx", "t-2026-11-23", ["Namn"], [[text] for text in planted])
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="t-2026-11-23.xlsx"'
    sheet = xlsx_sheet(content_of(response))
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == planted
    assert {cell.data_type for cell in cells} == {"s"}


def test_xlsx_dates_are_date_cells_rates_per_cent_and_the_header_frozen():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from bostadforst.exports import download_response

    at = datetime(2026, 11, 23, 13, 5, 9, 123456, tzinfo=ZoneInfo("UTC"))
    response = download_response(
        "xlsx",
        "t",
        ["Grupp", "Andel", "Datum", "Tidpunkt", "Antal"],
        [
            ["Helsingborgshem", 0.8333, "2026-11-23", at, -3],
            ["Åsa", None, date(2026, 1, 2), None, 4],
        ],
        kinds=["text", "rate", "date", None, "int"],
    )
    sheet = xlsx_sheet(content_of(response))
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == ["Grupp", "Andel", "Datum", "Tidpunkt", "Antal"]
    assert all(cell.font.b for cell in sheet[1])
    name, rate, day, moment, count = sheet[2]
    assert (rate.value, rate.data_type, rate.number_format) == (0.8333, "n", "0.0%")
    assert (day.value, day.is_date, day.number_format) == (
        datetime(2026, 11, 23),
        True,
        "yyyy-mm-dd",
    )
    # 13:05:09 UTC is 14:05:09 in Stockholm in November; naive, whole seconds.
    assert (moment.value, moment.is_date) == (datetime(2026, 11, 23, 14, 5, 9), True)
    assert moment.number_format == "yyyy-mm-dd hh:mm:ss"
    assert (count.value, count.data_type) == (-3, "n")
    assert sheet["C3"].value == datetime(2026, 1, 2)
    assert sheet["B3"].value is None
    assert sheet.column_dimensions["A"].width >= len("Helsingborgshem")


def test_csv_download_response_shows_times_in_stockholm_to_the_second():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bostadforst.exports import download_response

    at = datetime(2026, 7, 1, 8, 0, 1, 5, tzinfo=ZoneInfo("UTC"))
    response = download_response("csv", "t", ["Tid", "Namn"], [[at, "=1"]])
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'
    assert csv_rows(response.content) == [["Tid", "Namn"], ["2026-07-01 10:00:01", "'=1"]]


def test_download_response_answers_404_for_another_format():
    from django.http import Http404

    from bostadforst.exports import download_response

    with pytest.raises(Http404):
        download_response("xls", "t", ["a"], [])


def test_xlsx_drops_characters_a_workbook_cannot_hold():
    from bostadforst.exports import download_response

    response = download_response("xlsx", "t", ["a"], [["ok\x01\x1b text\nline"]])
    assert xlsx_sheet(content_of(response))["A2"].value == "ok text\nline"


def test_write_workbook_writes_each_sheet_the_same_safe_way():
    from bostadforst.exports import Sheet, write_workbook

    out = io.BytesIO()
    write_workbook(
        out,
        [
            Sheet("Boenden", ["Hyresvärd"], []),
            Sheet("Tillåtna värden", ["Kod", "Text"], [["=1+1", "@x"]]),
        ],
    )
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Boenden", "Tillåtna värden"]
    values = book["Tillåtna värden"]
    assert [(c.value, c.data_type) for c in values[2]] == [("=1+1", "s"), ("@x", "s")]
    assert values.freeze_panes == "A2"
