"""Every table of every page fits a phone (375 px) or turns into cards there.

Each role walks every GET page it may open (routes from the resolver, arguments
from the apps' ``url_samples.py``, the seeded demo world as data), and every
``<table>`` in the rendered HTML must be one of:

- a **card list**: class ``table-stack`` (``static/css/app.css``), whose rows
  are cards below the md breakpoint. Each shown data cell carries
  ``data-label`` with its column's heading, which the card shows before the
  value (empty only under a heading that is itself visually hidden, such as
  "Actions"); the row's first cell is the card's title and needs none;
- a **narrow table**: at most ``MAX_XS_COLUMNS`` columns shown below sm
  (cells with ``d-none`` are hidden there), and every hidden column's heading
  repeated, with its value, inside a ``d-*-none`` block of the shown cells of
  each row (the participant list's pattern);
- **hidden on a phone** (``d-none`` on it or around it) where the page shows a
  ``d-md-none`` replacement (the caseload's cards).

A new wide table fails here, whichever page it is on. The browser walk
(``tests/browser/test_accessibility.py``) checks the same in Chromium: no
table is wider than its box at 375 px.
"""

import re
from collections.abc import Iterator

import pytest
from django.test.html import Element, parse_html
from django.urls import reverse

from bostadforst.permissions import ACCESS_TABLE
from bostadforst.roles import Role

from ..urlwalk import project_routes

pytestmark = pytest.mark.django_db

# Three columns of ordinary words fit 343 px (375 less the page's padding),
# with app.css's 6em minimum per data cell; a fourth does not.
MAX_XS_COLUMNS = 3
# Hides the element below a breakpoint of sm or above, i.e. shown on a phone only.
PHONE_ONLY = re.compile(r"^d-(sm|md|lg|xl|xxl)-none$")


# --- Reading the page -------------------------------------------------------------------


def elements(node) -> Iterator[Element]:
    if isinstance(node, str):
        return
    yield node
    for child in node.children:
        yield from elements(child)


def classes(element: Element) -> set[str]:
    return set((dict(element.attributes).get("class") or "").split())


def text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text(child) for child in node.children)


def clean(value: str) -> str:
    return " ".join(value.split())


def hidden_on_a_phone(element: Element) -> bool:
    return "d-none" in classes(element)


def tables_in(node, hidden: bool = False) -> Iterator[tuple[Element, bool]]:
    """Every table with whether it (or something around it) is hidden on a phone."""
    if isinstance(node, str):
        return
    hidden = hidden or hidden_on_a_phone(node)
    if node.name == "table":
        yield node, hidden
    for child in node.children:
        yield from tables_in(child, hidden)


def children(element: Element, *names: str) -> list[Element]:
    return [c for c in element.children if not isinstance(c, str) and c.name in names]


def rows(table: Element, section: str) -> list[Element]:
    out = []
    for part in children(table, section):
        out += children(part, "tr")
    return out


def heading_row(table: Element) -> list[Element]:
    head = rows(table, "thead")
    return children(head[0], "th", "td") if head else []


def span(cell: Element) -> int:
    return int(dict(cell.attributes).get("colspan") or 1)


def heading_text(cell: Element) -> str:
    return clean(text(cell))


def visually_hidden_only(cell: Element) -> bool:
    """A heading whose whole text is visually hidden ("Actions")."""
    shown = [c for c in cell.children if isinstance(c, str) and c.strip()]
    return not shown and all(
        "visually-hidden" in classes(c) for c in cell.children if not isinstance(c, str)
    )


def phone_only_text(cells: list[Element]) -> str:
    return " ".join(
        clean(text(e))
        for cell in cells
        for e in elements(cell)
        if any(PHONE_ONLY.match(c) for c in classes(e))
    )


# --- The rule ---------------------------------------------------------------------------


def problems_of(table: Element, hidden: bool, page: Element) -> list[str]:
    """Why ``table`` would sit behind a sideways scroll at 375 px (none: it fits)."""
    headings = heading_row(table)
    caption = clean(text(children(table, "caption")[0])) if children(table, "caption") else ""
    name = caption or " | ".join(heading_text(h) for h in headings)[:80]
    if hidden:
        if not any(any(PHONE_ONLY.match(c) for c in classes(e)) for e in elements(page)):
            return [f"{name!r}: hidden on a phone with nothing shown instead"]
        return []
    body_rows = rows(table, "tbody") or [
        r for r in children(table, "tr") if not children(r, "th") or children(r, "td")
    ]
    if "table-stack" in classes(table):
        return stack_problems(name, headings, body_rows)
    return narrow_problems(name, headings, body_rows)


def stack_problems(name: str, headings: list[Element], body_rows: list[Element]) -> list[str]:
    out = []
    by_column: list[Element] = []
    for heading in headings:
        by_column += [heading] * span(heading)
    for row in body_rows:
        cells = children(row, "th", "td")
        if len(cells) == 1 and span(cells[0]) > 1:
            continue  # "Nothing to show."
        column = 0
        for index, cell in enumerate(cells):
            heading = by_column[column] if column < len(by_column) else None
            column += span(cell)
            if index == 0 or hidden_on_a_phone(cell):
                continue  # the card's title; a cell not shown on a phone
            label = dict(cell.attributes).get("data-label")
            if label is None:
                out.append(f"{name!r}: a cell of column {column} has no data-label")
            elif (
                heading is not None
                and clean(label) != heading_text(heading)
                and not (label == "" and visually_hidden_only(heading))
            ):
                out.append(
                    f"{name!r}: data-label {label!r} is not the heading {heading_text(heading)!r}"
                )
    return out


def narrow_problems(name: str, headings: list[Element], body_rows: list[Element]) -> list[str]:
    if headings:
        shown = sum(span(h) for h in headings if not hidden_on_a_phone(h))
    else:
        shown = max((sum(span(c) for c in children(r, "th", "td")) for r in body_rows), default=0)
    if shown > MAX_XS_COLUMNS:
        return [
            f"{name!r}: {shown} columns on a phone (at most {MAX_XS_COLUMNS}); make it a card "
            "list (class table-stack with data-label on each cell) or hide the secondary "
            "columns below md and repeat them in the row (d-none d-md-table-cell / d-md-none)"
        ]
    out = []
    hidden_headings = [heading_text(h) for h in headings if hidden_on_a_phone(h)]
    for row in body_rows:
        cells = children(row, "th", "td")
        repeated = phone_only_text([c for c in cells if not hidden_on_a_phone(c)])
        for heading in hidden_headings:
            if heading not in repeated:
                out.append(
                    f"{name!r}: the column {heading!r} is hidden on a phone and not repeated"
                )
    return out


def page_problems(html: str) -> list[str]:
    page = parse_html(html)
    return [p for table, hidden in tables_in(page) for p in problems_of(table, hidden, page)]


# --- The walk ---------------------------------------------------------------------------


def pages(world, role: Role) -> Iterator[tuple[str, str]]:
    """(url, html) of every page ``role`` may open."""
    client = world.client(role)
    for route in project_routes():
        if role not in ACCESS_TABLE.get(route.name, ()):
            continue
        url = reverse(route.name, kwargs=world.url_kwargs(route))
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            yield url, response.content.decode()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_table_fits_a_phone_or_is_a_card_list(world, db, role):
    seen, problems = 0, []
    for url, html in pages(world, role):
        found = page_problems(html)
        seen += html.count("<table")
        problems += [f"{url}: {p}" for p in found]
    # The walk meets tables (the administrator's pages have none outside the admin).
    assert seen or role == Role.ADMINISTRATOR, role
    assert not problems, "\n".join(sorted(set(problems)))


# --- The rule itself --------------------------------------------------------------------


def _table(head: str, row: str, cls: str = "table") -> str:
    head, row = f"<thead><tr>{head}</tr></thead>", f"<tbody><tr>{row}</tr></tbody>"
    return f'<table class="{cls}">{head}{row}</table>'


def test_a_wide_table_fails():
    html = _table("<th>A</th><th>B</th><th>C</th><th>D</th>", "<td>1</td>" * 4)
    assert "4 columns on a phone" in page_problems(html)[0]


def test_hidden_columns_must_be_repeated_in_the_row():
    head = '<th>A</th><th>B</th><th class="d-none d-md-table-cell">Worker</th>'
    plain = _table(head, '<td>1</td><td>2</td><td class="d-none d-md-table-cell">Ann</td>')
    repeated = _table(
        head,
        '<td>1</td><td>2<div class="d-md-none">Worker: Ann</div></td>'
        '<td class="d-none d-md-table-cell">Ann</td>',
    )
    assert "'Worker' is hidden on a phone and not repeated" in page_problems(plain)[0]
    assert page_problems(repeated) == []


def test_a_card_list_needs_the_headings_as_labels():
    head = "<th>A</th><th>B</th><th>C</th><th>D</th>"
    good = '<th>1</th><td data-label="B">2</td><td data-label="C">3</td><td data-label="D">4</td>'
    missing = '<th>1</th><td data-label="B">2</td><td>3</td><td data-label="D">4</td>'
    wrong = '<th>1</th><td data-label="B">2</td><td data-label="X">3</td><td data-label="D">4</td>'
    cls = "table table-stack"
    assert page_problems(_table(head, good, cls)) == []
    assert "has no data-label" in page_problems(_table(head, missing, cls))[0]
    assert "'X' is not the heading 'C'" in page_problems(_table(head, wrong, cls))[0]


def test_a_table_hidden_on_a_phone_needs_something_in_its_place():
    table = _table("<th>A</th>" * 5, "<td>1</td>" * 5)
    alone = f'<div class="d-none d-md-block">{table}</div>'
    with_cards = f'<ul class="d-md-none"><li>1</li></ul>{alone}'
    assert "nothing shown instead" in page_problems(alone)[0]
    assert page_problems(with_cards) == []
