"""Russian is complete: every message the code and templates use has a Russian translation,
with the right plural forms and the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}


def _used_messages() -> dict:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        if filename.startswith(("app", "templates")):
            found[message[0] if isinstance(message, tuple) else message] = (message, filename)
    return found


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as f:
        return read_po(f)


def test_every_message_used_has_a_russian_translation(catalogue):
    missing = []
    for key, (message, filename) in _used_messages().items():
        entry = catalogue.get(key)
        if entry is None or entry.fuzzy:
            missing.append(f"{filename}: {key!r}")
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(forms) or (isinstance(message, tuple) and len(forms) != 3):
            missing.append(f"{filename}: {key!r} (incomplete)")
    assert missing == [], "\n".join(missing)


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for entry in catalogue:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            if set(PLACEHOLDER.findall(form)) != wanted:
                wrong.append(f"{ids[0]!r} → {form!r}")
    assert wrong == [], "\n".join(wrong)


def test_russian_plural_rule_is_declared(catalogue):
    assert catalogue.num_plurals == 3
    assert "n%10==1&&n%100!=11" in catalogue.plural_expr.replace(" ", "")
