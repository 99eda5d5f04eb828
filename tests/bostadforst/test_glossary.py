"""The catalogs follow the glossary (docs/glossary.md): no Swedish translation
uses a word the glossary lists under "Använd inte", and every word it chooses is
used somewhere.

The glossary's table and every catalog (the project's ``locale/sv`` and each
local app's) are read as they are, so a new row or a new translation is checked
without touching this file.
"""

import ast
import re
from pathlib import Path

from django.conf import settings

from ..world import local_apps

GLOSSARY = settings.BASE_DIR / "docs" / "glossary.md"
SWEDISH = "Svenska"
AVOID = "Använd inte"


# --- Reading the glossary and the catalogs ----------------------------------------------


def glossary_rows(text: str) -> list[dict[str, str]]:
    """The glossary's table as one dict per row, keyed by the heading."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    header, rows = cells[0], [r for r in cells[1:] if not set("".join(r)) <= set("-: ")]
    return [dict(zip(header, row, strict=True)) for row in rows]


def words(cell: str) -> list[str]:
    return [w.strip() for w in cell.split(",") if w.strip() and w.strip() != "–"]


def catalogs() -> list[Path]:
    paths = [Path(p) / "sv" / "LC_MESSAGES" / "django.po" for p in settings.LOCALE_PATHS]
    paths += [
        settings.BASE_DIR / app / "locale" / "sv" / "LC_MESSAGES" / "django.po"
        for app in local_apps()
    ]
    return [p for p in paths if p.is_file()]


ENTRY_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


def translations(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every current entry of a .po file (each plural form
    apart; obsolete ``#~`` entries and the header left out)."""
    out: list[tuple[str, str]] = []
    entry: dict[str, str] = {}
    key = None

    def flush():
        for name, value in entry.items():
            if name.startswith("msgstr") and entry.get("msgid") and value:
                out.append((entry["msgid"], value))

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            entry, key = {}, None
        elif line.startswith("#"):
            continue
        elif match := ENTRY_LINE.match(line):
            key = match.group(1)
            entry[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            entry[key] += ast.literal_eval(line)
    return out


def used(word: str, text: str) -> bool:
    """``word`` in ``text`` where a word starts, in any case and inflection."""
    return re.search(r"(?<!\w)" + re.escape(word), text, re.IGNORECASE) is not None


# --- The rules --------------------------------------------------------------------------


def test_the_glossary_has_its_columns_and_the_choices_issue_17_asked_for():
    rows = glossary_rows(GLOSSARY.read_text(encoding="utf-8"))
    assert len(rows) >= 30
    chosen = {row[SWEDISH]: words(row[AVOID]) for row in rows}
    assert "inskickad" in chosen["remitterad"]
    assert "anledning" in chosen["orsak"]
    assert "genomförandeplan" in chosen["handlingsplan"]


def test_no_translation_uses_a_word_the_glossary_avoids():
    rows = glossary_rows(GLOSSARY.read_text(encoding="utf-8"))
    avoided = {word: row[SWEDISH] for row in rows for word in words(row[AVOID])}
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {msgid!r} → {msgstr!r} uses {word!r} "
        f"(the glossary says {use!r})"
        for path in catalogs()
        for msgid, msgstr in translations(path)
        for word, use in avoided.items()
        if used(word, msgstr)
    ]
    assert not found, "\n".join(found)


def test_every_word_the_glossary_chooses_is_used_in_a_translation():
    rows = glossary_rows(GLOSSARY.read_text(encoding="utf-8"))
    everything = "\n".join(msgstr for path in catalogs() for _, msgstr in translations(path))
    unused = [row[SWEDISH] for row in rows if not used(row[SWEDISH], everything)]
    assert not unused, unused


def test_the_catalogs_are_read_in_full(tmp_path):
    """Multi-line, plural and obsolete entries; the match takes inflections."""
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: sv\\n"\n\n'
        'msgid "Reason"\nmsgstr ""\n"Ange "\n"anledningen"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "en"\nmsgstr[1] "flera"\n\n'
        '#~ msgid "Old"\n#~ msgstr "Gammal anledning"\n',
        encoding="utf-8",
    )
    assert translations(po) == [("Reason", "Ange anledningen"), ("one", "en"), ("one", "flera")]
    assert used("anledning", "Ange Anledningen") and not used("ledning", "anledningen")
    assert [p.name for p in catalogs()] and all(p.name == "django.po" for p in catalogs())
