"""Started bare, with no `make` (no compiled catalogue), the app still speaks Russian."""

import shutil

from app import translations
from app.translations import compiled_catalogues


def test_a_missing_catalogue_is_compiled_at_start(tmp_path):
    source = tmp_path / "translations"
    shutil.copytree("translations", source, ignore=shutil.ignore_patterns("*.mo"))
    folders = compiled_catalogues(source, tmp_path / "instance")
    assert folders == [str(source)]
    assert (source / "ru/LC_MESSAGES/messages.mo").stat().st_size > 10_000


def test_a_read_only_checkout_compiles_into_the_instance_folder(tmp_path, monkeypatch):
    source = tmp_path / "translations"
    shutil.copytree("translations", source, ignore=shutil.ignore_patterns("*.mo"))
    compile_ = translations._compile

    def read_only(po, mo):  # the suite runs as root, whom a mode 555 folder does not stop
        if source in mo.parents:
            raise PermissionError(13, "Read-only file system", str(mo))
        compile_(po, mo)

    monkeypatch.setattr(translations, "_compile", read_only)
    folders = compiled_catalogues(source, tmp_path / "instance")
    assert folders == [str(tmp_path / "instance/translations"), str(source)]
    assert (tmp_path / "instance/translations/ru/LC_MESSAGES/messages.mo").exists()
