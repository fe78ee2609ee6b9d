"""The message catalogue: every string of the portal is in it, translated, and the compiled
catalogue (committed beside it, so an installed portal needs no build step) matches it."""
from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

PORTAL = Path(__file__).resolve().parents[2]
CATALOGUE = PORTAL / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def extracted() -> set[str]:
    methods = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    return {message for _file, _line, message, _comments, _context in
            extract_from_dir(str(PORTAL), methods, keywords=KEYWORDS) if isinstance(message, str)}


def test_every_string_of_the_portal_has_its_chinese_and_nothing_is_left_over():
    catalogue = read_po((CATALOGUE / "messages.po").open("rb"))
    translated = {m.id: m.string for m in catalogue if m.id}
    used = extracted()
    assert sorted(used - set(translated)) == [], "strings missing from the catalogue"
    assert sorted(m for m in used if not translated[m] or catalogue[m].fuzzy) == [], "untranslated or fuzzy"
    assert sorted(set(translated) - used) == [], "strings no page uses any more"


def test_the_compiled_catalogue_matches_its_source():
    source = {m.id: m.string for m in read_po((CATALOGUE / "messages.po").open("rb")) if m.id}
    compiled = {m.id: m.string for m in read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes())) if m.id}
    assert compiled == source, "run: pybabel compile -d services/portal/translations (see translations/README.md)"
