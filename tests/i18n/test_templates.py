"""Every word a person reads in a template goes through the translation calls."""

import re
from pathlib import Path

import pytest
from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Words that are the same in every language: the product's name, formats, codes.
ALLOWED = {"Huquq", "CSV", "YYYY", "MM", "DD"}
TAG = re.compile(r"<[^>]*>", re.S)
SHOWN_ATTRIBUTES = re.compile(r'\b(?:title|alt|aria-label|placeholder)="([^"{]*)"')
WORD = re.compile(r"[^\W\d_]{2,}")


def _raw_text(source: str) -> list[str]:
    """The template's own text (outside {{ }}, {% %} and {# #}) that a browser would show:
    what is left between tags, and the attributes a person reads."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    pieces = []
    for _, token, value in env.lex(source):
        if token == "data":
            pieces.append(value)
        elif not pieces or pieces[-1] != "\x00":
            pieces.append("\x00")  # an expression or statement: its text is not the template's
    html = "".join(pieces)
    return [*SHOWN_ATTRIBUTES.findall(html), TAG.sub(" ", html)]


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_text_outside_translation_calls(path):
    words = {w for text in _raw_text(path.read_text(encoding="utf-8")) for w in WORD.findall(text)}
    assert words <= ALLOWED, f"untranslated words in {path.name}: {sorted(words - ALLOWED)}"
