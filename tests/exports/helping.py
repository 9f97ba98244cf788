"""Work for export helpers that misbehave, or report on themselves, in tests. Helpers import
this module afresh in the fork server: whatever the test process holds here, they do not."""

import contextlib
import os
import threading
import time

from app.exports.engine import parts

# Held by a thread of the test process while an export forks its helpers (see test_parts).
LOCK = threading.Lock()


def locked_help(out, *job) -> None:
    """The real helper's work, behind ``LOCK``: a helper forked while another thread of its
    parent held the lock would wait for it for ever."""
    with LOCK:
        parts._help(out, *job)


def dies(out, *job) -> None:
    """A helper killed before it sends anything (the out-of-memory killer, say)."""
    os._exit(3)


def hangs(out, *job) -> None:
    """A helper that never answers."""
    while True:
        time.sleep(3600)


def reports(out) -> None:
    """What the helper holds: its open file descriptors (and what each is), and its threads."""
    held = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the descriptor listdir itself used
            held[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
    threads = len(os.listdir("/proc/self/task"))
    out.part(threads, repr(held).encode())
