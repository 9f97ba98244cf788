"""Files the app writes for its operator (backups, exports, keys): owner-only from the first
byte, and whole or not at all."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def private_file(target: Path) -> Iterator[Path]:
    """A new, empty, owner-only (0600) file beside ``target``, to be written by the block; when
    the block ends it replaces ``target`` whole, and if the block fails it is removed.

    The file is made under a random name with O_EXCL and O_NOFOLLOW (``mkstemp``), so another
    local user cannot plant a file or a symlink for it to be written through; the rename
    replaces a symlink at ``target`` itself, never what it points to. An older ``target``
    readable by others is gone with it."""
    target = Path(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        fd = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)  # a backup on disk before it replaces the last one
        finally:
            os.close(fd)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
