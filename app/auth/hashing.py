"""Password hashing, behind one door: argon2id at the configured cost (``ARGON2_PARAMS``; the
library's defaults, 64 MiB and 3 passes over 4 lanes, when unset), a few at a time per worker
process, at a low priority.

A hash takes 64 MiB and every processor for a tenth of a second, so a flood of logins would
otherwise take a worker's memory, its threads and the machine's processors from everyone:

- ``slot()``: at most ``PASSWORD_HASHING_SLOTS`` hashes run at once in a worker process; a
  request that waits longer than ``PASSWORD_HASHING_WAIT`` seconds for a slot is answered "busy,
  try again" (``Busy``) without hashing anything;
- one client address may hold (or wait for) all slots but one: a flood from one address, locked
  or not, always leaves a slot for everyone else, and its surplus is answered "busy" at once;
- each hash runs on one of the process's hashing threads, started on first use at a lower
  scheduling priority (``NICENESS``, which argon2's own lane threads inherit), so that when
  processors are short the pages go first.
"""

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.errors import Busy

NICENESS = 10  # a CPU share about a tenth of a page's when both want a processor

_lock = threading.Lock()
_semaphores: dict[int, threading.BoundedSemaphore] = {}  # by size
_owners: Counter = Counter()  # slots held or waited for, by client address
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}  # (process, size) → hashing threads
_held = threading.local()  # how many slots this thread holds
_DUMMY_HASHES: dict[str, str] = {}


def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


@contextmanager
def slot(owner: str | None = None) -> Iterator[None]:
    """One of this process's hashing slots, held for a password check or a new password, for
    ``owner`` (a keyed hash of the client's address) when given. Raises Busy when the owner
    holds or waits for its share already, or no slot is free within ``PASSWORD_HASHING_WAIT``
    seconds."""
    size = current_app.config["PASSWORD_HASHING_SLOTS"]
    with _lock:
        semaphore = _semaphores.setdefault(size, threading.BoundedSemaphore(size))
        if owner is not None:
            if _owners[owner] >= max(size - 1, 1):
                raise Busy("hashing")
            _owners[owner] += 1
    try:
        if not semaphore.acquire(timeout=current_app.config["PASSWORD_HASHING_WAIT"]):
            raise Busy("hashing")
        _held.count = getattr(_held, "count", 0) + 1
        try:
            yield
        finally:
            _held.count -= 1
            semaphore.release()
    finally:
        if owner is not None:
            with _lock:
                _owners[owner] -= 1
                if not _owners[owner]:
                    del _owners[owner]


def share_taken(owner: str) -> bool:
    """Whether ``owner`` (a client address's keyed hash) holds or waits for its share of this
    process's slots: its next password check would be answered busy."""
    size = current_app.config["PASSWORD_HASHING_SLOTS"]
    with _lock:
        return _owners[owner] >= max(size - 1, 1)


def _slot_for_one_hash():
    """The slot a hash runs in: the one this thread holds already, or one taken now."""
    return nullcontext() if getattr(_held, "count", 0) else slot()


def _lower_priority() -> None:
    # On Linux a thread's niceness is its own, and the threads it starts inherit it.
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _run(work: Callable, *args):
    """``work(*args)`` on one of this process's low-priority hashing threads (made after a
    fork, never inherited from the parent)."""
    size = current_app.config["PASSWORD_HASHING_SLOTS"]
    key = (os.getpid(), size)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(
                size, thread_name_prefix="argon2", initializer=_lower_priority
            )
    with _slot_for_one_hash():
        return pool.submit(work, *args).result()


def _dummy_hash() -> str:
    """Checked against for an unknown account or while locked, so every refusal takes as long."""
    params = repr(sorted(current_app.config.get("ARGON2_PARAMS", {}).items()))
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = _run(_hasher().hash, "not-a-real-password")
    return _DUMMY_HASHES[params]


def hash_password(password: str) -> str:
    return _run(_hasher().hash, password)


def _matches(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches: one argon2 verification whatever the answer (with no hash,
    the dummy one is checked and the answer is no)."""
    return _run(_matches, _hasher(), password_hash or _dummy_hash(), password) and bool(
        password_hash
    )


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other costs than the configured ones."""
    return _hasher().check_needs_rehash(password_hash)
