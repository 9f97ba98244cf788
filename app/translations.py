"""The compiled message catalogues, however the app is started: `make` compiles them, but a
deployer may start it bare (`pip install -r requirements.txt`, then `gunicorn wsgi:app`), and
then a Russian browser would get English. So a catalogue whose `.mo` is missing or older than
its `.po` is compiled at start: beside it when that folder is writable, else into the
instance folder, which then comes first among the translation folders."""

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compiled_catalogues(source: Path, instance: Path) -> list[str]:
    """The translation folders to give Flask-Babel, every catalogue compiled and current."""
    stale = [
        po
        for po in source.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return [str(source)]
    target = source
    try:
        for po in stale:
            _compile(po, po.with_suffix(".mo"))
    except OSError:  # a read-only checkout: the instance folder holds the compiled copies
        target = instance / "translations"
        for po in source.glob("*/LC_MESSAGES/messages.po"):
            mo = target / po.relative_to(source).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            _compile(po, mo)
    return [str(target)] if target == source else [str(target), str(source)]


def _compile(po: Path, mo: Path) -> None:
    with po.open("rb") as f:
        catalogue = read_po(f)
    partial = mo.with_suffix(".mo.partial")
    with partial.open("wb") as f:
        write_mo(f, catalogue)
    shutil.move(partial, mo)
