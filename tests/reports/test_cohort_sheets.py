"""The cohort import reads what municipalities have (issue 13): .xlsx and
Swedish Excel's CSV, Swedish or English headers and codes; malformed files
get line-numbered messages and write nothing."""

import csv
import io
import random
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from housing.models import ContractType, ExitReason, Tenancy
from participants.models import Participant
from participants.personnummer import generate
from reports import sheets
from reports.cohort import cohort_import, parse
from tests.reports.test_cohort_import import counts

PNR = generate(random.Random(13))  # made up, valid check digit

# One cohort with every column: successive tenancies, a takeover, a person
# who died, an address and landlords with å, ä and ö.
COHORT = [
    {
        "participant_id": "GÄV-01",
        "personnummer": PNR,
        "move_in": date(2019, 3, 1),
        "move_out": date(2021, 6, 30),
        "exit_reason": "other_hf_apartment",
        "landlord": "Gavlegårdarna",
        "contract_type": "social",
        "takeover": date(2020, 1, 15),
        "address": "Södra Kungsgatan 3",
    },
    {
        "participant_id": "GÄV-01",
        "personnummer": "",
        "move_in": date(2021, 6, 30),
        "move_out": None,
        "exit_reason": "",
        "landlord": "Gavlegårdarna",
        "contract_type": "first_hand",
        "takeover": None,
        "address": "Norra Strömsgatan 12",
    },
    {
        "participant_id": "GÄV-02",
        "personnummer": "",
        "move_in": date(2020, 2, 1),
        "move_out": date(2023, 5, 31),
        "exit_reason": "evicted",
        "landlord": "Svenska bostäder",
        "contract_type": "first_hand",
        "takeover": None,
        "address": "Åbyvägen 4",
    },
    {
        "participant_id": "GÄV-03",
        "personnummer": "",
        "move_in": date(2021, 9, 1),
        "move_out": None,
        "exit_reason": "",
        "landlord": "Heimstaden",
        "contract_type": "social",
        "takeover": None,
        "address": "",
    },
    {
        "participant_id": "GÄV-04",
        "personnummer": "",
        "move_in": date(2018, 1, 31),
        "move_out": date(2022, 12, 31),
        "exit_reason": "deceased",
        "landlord": "Heimstaden",
        "contract_type": "social",
        "takeover": date(2019, 2, 28),
        "address": "Ödmårdsvägen 9",
    },
]
CODES = list(sheets.COLUMNS)


def swedish_headers() -> list[str]:
    with translation.override("sv"):
        return [str(sheets.COLUMN_LABELS[c]) for c in CODES]


def swedish_value(code: str, value):
    """A cell as a Swedish user writes it: the labels the app shows."""
    with translation.override("sv"):
        if code == "exit_reason" and value:
            return str(ExitReason(value).label)
        if code == "contract_type":
            return str(ContractType(value).label)
    return value


def cells(row: dict, *, swedish: bool = False, dates=lambda d: d.isoformat()) -> list:
    out = []
    for code in CODES:
        value = row[code]
        if isinstance(value, date):
            value = dates(value)
        elif value is None:
            value = ""
        out.append(swedish_value(code, value) if swedish else value)
    return out


def csv_bytes(rows, *, header, delimiter=",", encoding="utf-8", swedish=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(cells(row, swedish=swedish))
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header, swedish=False, sheets_before=(), title="Boenden", dates=None):
    """A workbook as Excel saves it: real date cells unless ``dates`` says otherwise."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in sheets_before:
        workbook.create_sheet(name).append(["Fyll i bladet Boenden."])
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(cells(row, swedish=swedish, dates=dates or (lambda d: d)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def dump():
    """Everything the import decides, in a form that compares."""
    people = sorted(
        (p.external_ref, p.personnummer, p.status, p.closed_on) for p in Participant.objects.all()
    )
    tenancies = sorted(
        (
            t.participant.external_ref,
            t.apartment.landlord.name,
            t.apartment.address,
            t.contract_type,
            t.move_in,
            t.move_out,
            t.exit_reason,
            t.takeover,
        )
        for t in Tenancy.objects.select_related("participant", "apartment__landlord")
    )
    return people, tenancies


FORMS = {
    "comma, UTF-8, English": lambda: (csv_bytes(COHORT, header=CODES), "kohort.csv"),
    "semicolon, Windows-1252, Swedish": lambda: (
        csv_bytes(COHORT, header=swedish_headers(), delimiter=";", encoding="cp1252", swedish=True),
        "kohort.csv",
    ),
    "semicolon, UTF-8 with BOM, Swedish headers": lambda: (
        csv_bytes(COHORT, header=swedish_headers(), delimiter=";", encoding="utf-8-sig"),
        "kohort.csv",
    ),
    "xlsx, date cells, Swedish, after an instruction sheet": lambda: (
        xlsx_bytes(COHORT, header=swedish_headers(), swedish=True, sheets_before=["Instruktioner"]),
        "kohort.xlsx",
    ),
    "xlsx, text dates with Excel's midnight": lambda: (
        xlsx_bytes(COHORT, header=CODES, dates=lambda d: f"{d.isoformat()} 00:00:00"),
        "kohort.xlsx",
    ),
    "xlsx, aliases in odd case and spacing": lambda: (
        xlsx_bytes(
            COHORT,
            header=[
                "DELTAGAR-ID",
                " personnummer ",
                "Inflyttningsdatum",
                "utflyttning",
                "Orsak",
                "HyresVärd",
                "Kontrakts form",
                "övertagande",
                "Adress",
            ],
            swedish=True,
        ),
        "kohort.xlsx",
    ),
}


@pytest.mark.django_db
def test_the_same_cohort_in_every_form_imports_to_identical_records():
    expected = None
    for name, make in FORMS.items():
        data, filename = make()
        # From the bytes, and from an open file as the job and the command
        # give it (read a chunk at a time).
        for source in (data, io.BytesIO(data)):
            with transaction.atomic():
                result = cohort_import(data=source, filename=filename)
                assert result.ok, (name, [str(e) for e in result.errors])
                assert result.committed
                records = dump()
                transaction.set_rollback(True)
            assert len(records[1]) == len(COHORT), name
            if expected is None:
                expected = records
            assert records == expected, name
    # The reference form says what the file says.
    people, tenancies = expected
    assert people[0][:2] == ("GÄV-01", PNR)
    assert (
        "GÄV-04",
        "Heimstaden",
        "Ödmårdsvägen 9",
        "social",
        date(2018, 1, 31),
        date(2022, 12, 31),
        "deceased",
        date(2019, 2, 28),
    ) in tenancies


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("comma, UTF-8, English", "CSV, kommaavgränsad, UTF-8"),
        ("semicolon, Windows-1252, Swedish", "CSV, semikolonavgränsad, Windows-1252"),
        ("semicolon, UTF-8 with BOM, Swedish headers", "CSV, semikolonavgränsad, UTF-8 med BOM"),
        (
            "xlsx, date cells, Swedish, after an instruction sheet",
            "Excel-arbetsbok, blad ”Boenden”",
        ),
    ],
)
def test_the_preview_says_how_the_file_was_read(name, fragment):
    data, filename = FORMS[name]()
    with translation.override("sv"):
        _rows, errors, source = parse(data=data, filename=filename)
    assert not errors
    assert source == fragment


# Header spellings and delimiters, as a property: whatever the spelling of
# each header and the delimiter and encoding, the rows read are the same.
SPELLINGS = {
    code: [code, *sheets.SWEDISH_ALIASES[code], swedish_headers()[CODES.index(code)]]
    for code in CODES
}


@st.composite
def spelled(draw, code):
    word = draw(st.sampled_from(SPELLINGS[code]))
    word = draw(st.sampled_from([word, word.upper(), word.title(), word.lower()]))
    return draw(st.sampled_from(["", " "])) + word + draw(st.sampled_from(["", "  "]))


@pytest.mark.django_db
@given(
    header=st.tuples(*(spelled(code) for code in CODES)),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    swedish=st.booleans(),
)
def test_any_header_spelling_delimiter_and_encoding_reads_the_same_rows(
    header, delimiter, encoding, swedish
):
    reference, errors, _source = parse(data=FORMS["comma, UTF-8, English"]()[0], filename="a.csv")
    assert not errors
    data = csv_bytes(
        COHORT, header=list(header), delimiter=delimiter, encoding=encoding, swedish=swedish
    )
    rows, errors, _source = parse(data=data, filename="b.csv")
    assert not errors, [str(e) for e in errors]
    assert rows == reference


def test_codes_are_accepted_as_english_codes_or_swedish_labels_in_any_case():
    reasons = sheets.choice_codes(ExitReason)
    assert reasons[sheets.choice_key("VRÄKT")] == "evicted"
    assert reasons[sheets.choice_key("Moved_On")] == "moved_on"
    assert reasons[sheets.choice_key("flyttat till  annat permanent boende")] == "moved_on"
    contracts = sheets.choice_codes(ContractType)
    assert contracts[sheets.choice_key("socialt kontrakt")] == "social"
    assert sheets.choice_key("tredjehand") not in contracts


# Malformed files: each gets a line-numbered message and writes nothing.


def refused(data: bytes, filename: str):
    """Import ``data`` from a file, as the job and the command read it, and
    from its bytes; assert nothing was written, the same errors both ways,
    and return the file's result and time."""
    before = counts()
    with tempfile.TemporaryFile() as file:
        file.write(data)
        started = time.monotonic()
        result = cohort_import(data=file, filename=filename)
        elapsed = time.monotonic() - started
    assert not result.ok and not result.committed
    assert counts() == before
    assert all(e.line >= 1 for e in result.errors)
    from_bytes = cohort_import(data=data, filename=filename)
    assert [str(e) for e in from_bytes.errors] == [str(e) for e in result.errors]
    assert from_bytes.source == result.source
    return result, elapsed


def one_row(**changes) -> list[dict]:
    return [dict(COHORT[3], **changes)]


@pytest.mark.django_db
def test_a_semicolon_file_is_not_refused_as_one_unknown_column():
    data = csv_bytes(COHORT, header=CODES, delimiter=";")
    result = cohort_import(data=data, filename="kohort.csv")
    assert result.ok, [str(e) for e in result.errors]


@pytest.mark.django_db
def test_a_workbook_without_the_columns_names_its_sheets():
    workbook = Workbook()
    workbook.active.title = "Instruktioner"
    workbook.active.append(["Läs detta först"])
    workbook.create_sheet("Summering").append(["Antal", 5])
    out = io.BytesIO()
    workbook.save(out)
    with translation.override("sv"):
        result, _elapsed = refused(out.getvalue(), "kohort.xlsx")
        message = str(result.errors[0])
    assert result.errors[0].line == 1
    assert "”Instruktioner”" in message and "”Summering”" in message
    assert "Deltagar-id" in message


@pytest.mark.django_db
def test_merged_header_cells_are_refused_on_line_1():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Boenden"
    sheet.append(["Deltagar-id", "Inflyttning", "", "Hyresvärd", "Kontraktsform"])
    sheet.merge_cells("B1:C1")
    sheet.append(["P1", date(2020, 1, 1), "", "X", "social"])
    out = io.BytesIO()
    workbook.save(out)
    with translation.override("sv"):
        result, _elapsed = refused(out.getvalue(), "kohort.xlsx")
        messages = [str(e) for e in result.errors]
    assert [e.line for e in result.errors] == [1]
    assert messages == [
        "Blad Boenden, rad 1: Cellerna B1:C1 är sammanfogade. Dela upp dem och fyll i varje cell."
    ]


@pytest.mark.django_db
def test_merged_cells_under_the_header_are_refused_by_line():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CODES)
    for row in COHORT[2:]:
        sheet.append(cells(row, dates=lambda d: d))
    sheet.merge_cells("F3:F4")  # Heimstaden typed once for two rows
    out = io.BytesIO()
    workbook.save(out)
    result, _elapsed = refused(out.getvalue(), "kohort.xlsx")
    assert [(e.line, e.sheet) for e in result.errors] == [(3, "Sheet")]
    assert "F3:F4" in result.errors[0].message


@pytest.mark.django_db
def test_formula_cells_are_refused_by_line():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CODES)
    for row in COHORT:
        sheet.append(cells(row, dates=lambda d: d))
    sheet["D4"] = "=C4+365"  # a move-out computed from the move-in
    out = io.BytesIO()
    workbook.save(out)
    with translation.override("sv"):
        result, _elapsed = refused(out.getvalue(), "kohort.xlsx")
    assert [e.line for e in result.errors] == [4]
    assert "D4" in result.errors[0].message
    assert "formel" in result.errors[0].message


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_empty_rows_are_skipped_and_later_lines_keep_their_numbers(form):
    rows = [COHORT[2], None, None, COHORT[3], None, dict(COHORT[4], contract_type="tredjehand")]
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(CODES)
        for row in rows:
            writer.writerow([""] * len(CODES) if row is None else cells(row))
        data, name = out.getvalue().encode(), "kohort.csv"
    else:
        workbook = Workbook()
        workbook.active.append(CODES)
        for n, row in enumerate(rows, start=2):
            if row is not None:
                for column, value in enumerate(cells(row, dates=lambda d: d), start=1):
                    workbook.active.cell(row=n, column=column, value=value or None)
        out = io.BytesIO()
        workbook.save(out)
        data, name = out.getvalue(), "kohort.xlsx"
    result, _elapsed = refused(data, name)
    assert {e.line for e in result.errors} == {7}  # the contract type and its takeover
    assert "tredjehand" in result.errors[0].message
    # Without the bad row, the same file imports.
    good = data.replace(b"tredjehand", b"social") if form == "csv" else None
    if good is not None:
        assert cohort_import(data=good, filename=name).ok


@pytest.mark.django_db
def test_a_file_of_more_lines_than_the_limit_but_not_rows_is_read_whole(monkeypatch):
    """More line breaks than rows allowed makes the reader count the rows
    first (a pass of its own over the file); within the limit, the rows are
    then read from the start again, every one."""
    monkeypatch.setattr(sheets, "MAX_ROWS", len(COHORT))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CODES)
    for row in COHORT:
        writer.writerow(cells(row))
        writer.writerow([""] * len(CODES))
    data = out.getvalue().encode()
    assert data.count(b"\n") > len(COHORT)
    with tempfile.TemporaryFile() as file:
        file.write(data)
        result = cohort_import(data=file, filename="kohort.csv")
    assert result.committed, [str(e) for e in result.errors]
    assert result.rows == result.tenancies_created == len(COHORT)


def fast_xlsx(rows: list[list[str]], title: str = "Boenden") -> bytes:
    """A minimal workbook written directly (openpyxl takes half a minute for
    100,001 rows): inline strings and the dimension Excel writes."""

    def letter(index):
        return sheets._column_letter(index)

    body = "".join(
        f'<row r="{n}">'
        + "".join(
            f'<c r="{letter(i)}{n}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for i, v in enumerate(row)
        )
        + "</row>"
        for n, row in enumerate(rows, start=1)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="{title}" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><dimension ref="A1:{letter(len(rows[0]) - 1)}'
            f'{len(rows)}"/><sheetData>{body}</sheetData></worksheet>',
        )
    return out.getvalue()


def many_rows(n: int) -> list[list[str]]:
    return [["participant_id", "move_in", "landlord", "contract_type"]] + [
        [f"P{i}", "2020-01-01", "X", "social"] for i in range(n)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_file_of_100001_rows_is_refused_quickly_and_writes_nothing(form):
    rows = many_rows(sheets.MAX_ROWS + 1)
    if form == "csv":
        data, name = "\n".join(",".join(r) for r in rows).encode(), "stor.csv"
    else:
        data, name = fast_xlsx(rows), "stor.xlsx"
    with translation.override("sv"):
        result, elapsed = refused(data, name)
        message = str(result.errors[0])
    assert [e.line for e in result.errors] == [sheets.MAX_ROWS + 2]
    assert "100\u00a0000" in message
    # Counted before any row is checked: reading 100,000 rows takes far longer.
    assert elapsed < 15, elapsed


def test_a_workbook_of_exactly_the_limit_is_read_without_reading_it_twice():
    """The row count before reading sees a full workbook as within the limit."""
    scan_rows = many_rows(3)
    data = fast_xlsx(scan_rows)
    table = sheets.read_table(data=data, filename="x.xlsx")
    assert table.estimate == 3
    assert [row.line for row in table.rows] == [2, 3, 4]


@pytest.mark.django_db
def test_a_nul_byte_is_refused_by_line():
    data = csv_bytes(COHORT, header=CODES).replace(b"Heimstaden", b"Heim\x00staden", 1)
    result, _elapsed = refused(data, "kohort.csv")
    assert [e.line for e in result.errors] == [5]


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_nul_byte_never_reaches_postgresql(settings):
    """PostgreSQL refuses NUL in text: before the reader stopped it, it was a 500."""
    data = csv_bytes(COHORT, header=CODES).replace("GÄV-03".encode(), b"G\x00V-03")
    result, _elapsed = refused(data, "kohort.csv")
    assert [e.line for e in result.errors] == [5]


@pytest.mark.django_db
def test_a_cell_over_128_kb_is_refused_by_line():
    data = csv_bytes(one_row(address="x" * 140_000), header=CODES)
    result, _elapsed = refused(data, "kohort.csv")
    assert [e.line for e in result.errors] == [2]
    assert "address" in result.errors[0].message


@pytest.mark.django_db
def test_an_unclosed_quote_is_refused_at_its_line():
    text = csv_bytes(COHORT, header=CODES).decode()
    lines = text.split("\r\n")
    lines[3] = lines[3].replace("Svenska bostäder", '"Svenska bostäder')
    with translation.override("sv"):
        result, _elapsed = refused("\r\n".join(lines).encode(), "kohort.csv")
    assert [e.line for e in result.errors] == [4]
    assert "citattecken" in result.errors[0].message


@pytest.mark.django_db
def test_an_unclosed_quote_in_a_big_file_is_refused_at_its_line():
    """csv's field limit (131,072 characters by default) gave a 500."""
    rows = ["participant_id,move_in,landlord,contract_type", 'P0,2020-01-01,"X,social']
    rows += [f"P{i},2020-01-01,X,social" for i in range(1, 60_000)]
    result, _elapsed = refused("\n".join(rows).encode(), "kohort.csv")
    assert [e.line for e in result.errors] == [2]


def zip_bomb(*, entries: int = 1, size: int = 0) -> bytes:
    """A zip named .xlsx whose one entry inflates from little to ``size``
    bytes, or that holds ``entries`` small entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if size:
            info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as entry:
                block = b"\0" * (1 << 20)
                for _ in range(size >> 20):
                    entry.write(block)
        for n in range(entries if not size else 0):
            archive.writestr(f"xl/media/{n}.bin", b"")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda: zip_bomb(size=sheets.MAX_XLSX_UNCOMPRESSED + (1 << 20)), id="size"),
        pytest.param(lambda: zip_bomb(entries=sheets.MAX_XLSX_ENTRIES + 1), id="entries"),
    ],
)
def test_a_zip_bomb_disguised_as_xlsx_is_refused_unread(bomb):
    data = bomb()
    assert len(data) < 1_000_000  # small on disk
    with translation.override("sv"):
        result, elapsed = refused(data, "kohort.xlsx")
    assert [e.line for e in result.errors] == [1]
    assert "oläst" in result.errors[0].message
    assert elapsed < 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "filename", "fragment"),
    [
        (b"PK\x03\x04 not really a zip", "kohort.xlsx", "Excel-arbetsbok"),
        (b"participant_id;move_in", "kohort.xlsx", "inte en Excel-arbetsbok"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "kohort.xls", ".xls"),
        ("participant_id\nA".encode("utf-16"), "kohort.csv", "UTF-16"),
        (b"participant_id,move_in\nA\x81,2020-01-01\n", "kohort.csv", "Windows-1252"),
        ("participant_id,move_in\nÅ,2020-01-01\n".encode() + b"\xff\n", "kohort.csv", "UTF-8"),
        (b"", "kohort.csv", "tom"),
    ],
)
def test_unreadable_files_get_a_swedish_message(data, filename, fragment):
    with translation.override("sv"):
        result, _elapsed = refused(data, filename)
        message = " ".join(str(e) for e in result.errors)
    assert fragment in message


@pytest.mark.django_db
def test_a_workbook_made_from_the_template_imports():
    data = sheets.cohort_template_xlsx()
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Boenden", "Tillåtna värden"]
    sheet = workbook["Boenden"]
    assert [c.value for c in sheet[1]] == swedish_headers()
    listed = {row[3] for row in workbook["Tillåtna värden"].iter_rows(values_only=True)}
    assert set(ExitReason.values) | set(ContractType.values) <= listed
    with translation.override("sv"):
        labels = {row[2] for row in workbook["Tillåtna värden"].iter_rows(values_only=True)}
        assert str(ExitReason.EVICTED.label) in labels
    # Filled in by a user, with the labels the second sheet lists.
    for row in COHORT:
        sheet.append(cells(row, swedish=True, dates=lambda d: datetime(d.year, d.month, d.day)))
    out = io.BytesIO()
    workbook.save(out)
    result = cohort_import(data=out.getvalue(), filename="mall.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    assert result.tenancies_created == len(COHORT)


@pytest.mark.django_db
def test_errors_of_a_workbook_name_its_sheet():
    data = xlsx_bytes(one_row(contract_type="tredjehand"), header=CODES, title="Boenden 2025")
    with translation.override("sv"):
        result = cohort_import(data=data, filename="kohort.xlsx")
        assert str(result.errors[0]).startswith("Blad Boenden 2025, rad 2: ")


@pytest.mark.django_db
def test_progress_is_reported_per_stage_and_ends_complete():
    calls = []
    result = cohort_import(
        data=csv_bytes(COHORT, header=CODES),
        filename="kohort.csv",
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert result.ok
    assert [c[0] for c in calls] == sorted((c[0] for c in calls), key=["check", "write"].index)
    assert ("check", len(COHORT), len(COHORT)) in calls
    assert calls[-1] == ("write", len(COHORT), len(COHORT))


# The command


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
def test_import_cohort_shows_a_progress_bar_on_a_terminal_only(tmp_path):
    path = tmp_path / "kohort.xlsx"
    path.write_bytes(FORMS["xlsx, date cells, Swedish, after an instruction sheet"]()[0])
    terminal, quiet, out = Terminal(), io.StringIO(), io.StringIO()
    call_command("import_cohort", str(path), "--dry-run", stderr=terminal, stdout=out)
    assert "100%" in terminal.getvalue()
    call_command("import_cohort", str(path), stderr=quiet, stdout=out)
    assert quiet.getvalue() == ""
    assert Tenancy.objects.count() == len(COHORT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        b"participant_id;move_in\r\nA\x81;2020-01-01\r\n",
        b"PK\x03\x04broken",
        csv_bytes(one_row(address="x" * 140_000), header=CODES),
        b'participant_id,move_in,landlord,contract_type\n"P1,2020-01-01,X,social\n',
    ],
)
def test_import_cohort_reports_unreadable_files_in_swedish_without_a_traceback(tmp_path, content):
    path = tmp_path / "kohort.csv"
    path.write_bytes(content)
    err = io.StringIO()
    with translation.override("sv"), pytest.raises(CommandError) as raised:
        call_command("import_cohort", str(path), stderr=err, stdout=io.StringIO())
    assert "inget importerades" in str(raised.value)
    assert "Rad " in err.getvalue() or "rad " in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert not Tenancy.objects.exists()


def test_import_cohort_exits_nonzero_from_the_shell(tmp_path):
    """Run as an operator would: exit code 1, a Swedish line, no traceback."""
    import subprocess

    path = tmp_path / "kohort.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    done = subprocess.run(
        [sys.executable, "manage.py", "import_cohort", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "gamla Excel-formatet" in done.stderr


@pytest.mark.django_db
def test_row_errors_name_the_column_by_its_swedish_header_too():
    rows = one_row(move_in="", move_out="2024-01-01", exit_reason="")
    data = csv_bytes(rows, header=swedish_headers(), delimiter=";", swedish=True)
    with translation.override("sv"):
        result, _ = refused(data, "kohort.csv")
        messages = " ".join(str(e) for e in result.errors)
    assert "move_in (Inflyttning) är tom." in messages
    assert "En rad med move_out (Utflyttning) behöver exit_reason (Orsak)." in messages
