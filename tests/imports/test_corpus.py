"""Every file of the bad-input corpus is refused with its message, and nothing is written."""

import html
from pathlib import Path

import pytest

from tests.helpers import csrf_field, login, row_counts

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.csv"))


def test_the_corpus_has_at_least_30_files():
    assert len(FILES) >= 30


@pytest.fixture
def coordinator(make, client):
    user = make.user("coordinator", email="coordinator@example.org")
    login(client, user)
    return user


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_file_is_refused_with_its_message_and_writes_nothing(client, coordinator, app, path):
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    before = row_counts(app)
    response = client.post(
        "/imports/",
        data={**csrf_field(client.get("/imports/").text), "file": (path.open("rb"), path.name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Nothing was imported." in text
    for line in expected:
        assert line in text, f"{path.name}: {line!r} not in the page"
    assert row_counts(app) == before


@pytest.mark.parametrize("path", FILES[:: max(1, len(FILES) // 8)], ids=lambda p: p.stem)
def test_the_command_line_refuses_the_same_files(app, make, path):
    make.user("coordinator", email="coordinator@example.org")
    before = row_counts(app)
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert result.exit_code != 0
    for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        assert line in result.output
    assert "nothing was imported" in result.output
    assert row_counts(app) == before
