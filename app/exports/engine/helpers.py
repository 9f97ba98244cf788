"""Helper processes for long exports, forked by a fork server, never by the exporting process.

Why: a gunicorn ``gthread`` worker runs threads, and a child forked from it runs only the
thread that forked. A lock another thread held at that instant (SQLite's allocator mutex, a
logging handler's, any of ours) stays held in the child for ever, and the child hangs the
first time it needs it: helpers hung inside ``sqlite3.connect``, their worker thread waited
for them for ever, and their open read kept SQLite's WAL from being checkpointed. The child
also kept a copy of every socket open at that moment: other people's connections.

So each process that exports has a fork server of its own: a fresh interpreter started by
exec (``subprocess`` forks and execs at once, which is safe from any thread), with one thread
and nothing open but its end of a socket pair and its standard streams. It imports the
helpers' code once (the module of the function a helper runs, and any other the exporting
process names, such as its database driver) and then only forks, so every helper starts from
that single-threaded state and shares its pages. A gunicorn worker starts its server as it
starts (``prepare_worker``, from gunicorn.conf.py); anywhere else the first export starts it.

A helper gets two pipes and nothing else: it reads its job from one (what to run, its part
queries, the keys — straight from the exporting process, never through the server, never in a
file) and writes its parts into the other. The server answers each fork with a pidfd, so the
exporting process sees a helper end, and kills it, without ever hitting a process id the system
has since given to someone else; the server ignores SIGCHLD, so the system reaps helpers as
they end. Every wait has a deadline: a helper that does not answer in time is killed and the
export ends with ``HelperError``.

Not multiprocessing's "forkserver" start method: in Python 3.11 it runs the parent's main
script again in every child when the parent was started from a path (gunicorn's and flask's
scripts, bench/run.py: the whole bench imported in every helper), drops import errors of its
preload silently, adds a resource-tracker process to every worker, and signals its children by
process id.
"""

import contextlib
import fcntl
import importlib
import logging
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
# Helpers get what they need in their job; the server's environment goes without these.
SECRETS = frozenset(
    {"HUQUQ_MASTER_KEY", "HUQUQ_INDEX_KEY", "SECRET_KEY", "DATABASE_URL", "HUQUQ_UNLOCK_PASSWORD"}
)
READY = b"ready"
HEAD = struct.Struct("<qQ")  # before each message: its rows (or FAILED), then its length in bytes
FAILED = -1
PIPE_BYTES = 1 << 20  # what a helper's pipe holds: a whole part, mostly (Linux's default limit)
ENDING = 5.0  # seconds a helper is given to end once it is done, or once it is killed


class HelperError(RuntimeError):
    """A helper stopped, or did not answer in time: the export cannot be complete."""


def start_helper(work, *args, timeout: float, preload: tuple[str, ...] = ()) -> "Helper":
    """A new helper process running ``work(Output, *args)``. ``work`` and ``args`` are pickled
    into the helper's job pipe (``work`` by name: a module-level function); ``work``'s module
    and the modules named in ``preload`` are imported by the server before it forks, once.
    ``timeout`` seconds at most for the fork server to start (when it must) and answer."""
    job = pickle.dumps((work, args), protocol=pickle.HIGHEST_PROTOCOL)
    modules = (work.__module__, *preload)
    job_out, job_in = os.pipe()
    parts_out, parts_in = os.pipe()
    with contextlib.suppress(OSError):  # not Linux, or a lower limit: the helper waits more
        fcntl.fcntl(parts_in, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    try:
        pid, pidfd = _SERVER.fork(modules, job_out, parts_in, timeout)
    except BaseException:
        os.close(job_in)
        os.close(parts_out)
        raise
    finally:
        os.close(job_out)
        os.close(parts_in)
    helper = Helper(pid, pidfd, parts_out)
    try:
        _write_within(job_in, job, time.monotonic() + timeout)
    except BaseException:
        helper.end(kill=True)
        raise
    finally:
        os.close(job_in)
    return helper


def start_server(preload: tuple[str, ...], timeout: float = 60.0) -> None:
    """Start this process's fork server now, if it is not running, with the modules named in
    ``preload`` imported (``prepare_worker`` does, as a gunicorn worker starts, so that the
    first export does not wait for it)."""
    _SERVER.start(preload, timeout)


def server_pid() -> int | None:
    """The fork server's process id, while it runs (its children are the helpers)."""
    return _SERVER.pid()


class Helper:
    """One helper process, as the exporting process sees it: its parts, read in order."""

    def __init__(self, pid: int, pidfd: int, parts: int) -> None:
        self.pid, self._pidfd, self._parts = pid, pidfd, parts
        self._poll = select.poll()
        self._poll.register(parts, select.POLLIN)

    def received(self, timeout: float) -> tuple[int, bytes]:
        """The next part: its rows and lines. Raises the error the helper sent instead, or
        ``HelperError`` if it ended first or had not sent it all within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        rows, size = HEAD.unpack(self._read(HEAD.size, deadline, timeout))
        body = self._read(size, deadline, timeout)
        if rows == FAILED:
            raise pickle.loads(body)
        return rows, body

    def _read(self, size: int, deadline: float, timeout: float) -> bytes:
        chunks = []
        while size:
            wait = deadline - time.monotonic()
            if wait <= 0 or not self._poll.poll(wait * 1000):
                raise HelperError(f"an export helper sent no part for {timeout:g} s")
            chunk = os.read(self._parts, min(size, PIPE_BYTES))
            if not chunk:
                raise HelperError("an export helper stopped before it finished its parts")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def end(self, kill: bool) -> None:
        """Wait for the helper to end (a few seconds at most), killing it at once if ``kill``
        or if it does not end by then; then let go of it."""
        try:
            if kill or not _readable(self._pidfd, ENDING):
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                if not _readable(self._pidfd, ENDING):
                    log.error("export helper %d did not end after it was killed", self.pid)
        finally:
            os.close(self._pidfd)
            os.close(self._parts)


class Output:
    """Where a helper sends its parts, or the error that stopped it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def part(self, rows: int, data: bytes) -> None:
        _write_all(self.fd, HEAD.pack(rows, len(data)) + data)

    def failed(self, error: BaseException) -> None:
        try:
            data = pickle.dumps(error)
            pickle.loads(data)  # some errors pickle but do not come back
        except Exception:
            data = pickle.dumps(RuntimeError(f"export helper: {error!r}"))
        _write_all(self.fd, HEAD.pack(FAILED, len(data)) + data)


def _readable(fd: int, timeout: float) -> bool:
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(timeout * 1000))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_within(fd: int, data: bytes, deadline: float) -> None:
    os.set_blocking(fd, False)
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    view = memoryview(data)
    while view:
        wait = deadline - time.monotonic()
        if wait <= 0 or not poll.poll(wait * 1000):
            raise HelperError("an export helper did not take its job in time")
        with contextlib.suppress(BlockingIOError):
            view = view[os.write(fd, view) :]


class _Server:
    """This process's fork server, shared by its threads (one fork at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._channel: socket.socket | None = None

    def pid(self) -> int | None:
        with self._lock:
            running = self._process is not None and self._process.poll() is None
            return self._process.pid if running else None

    def start(self, preload: tuple[str, ...], timeout: float) -> None:
        with self._lock:
            self._running(preload, timeout)

    def fork(self, modules: tuple[str, ...], job: int, parts: int, timeout: float):
        """A new helper with these two pipe ends, forked once ``modules`` are imported: its
        process id and a pidfd of it."""
        with self._lock:
            channel = self._running(modules, timeout)
            try:
                channel.settimeout(timeout)
                socket.send_fds(channel, [" ".join(modules).encode()], [job, parts])
                message, fds, _flags, _address = socket.recv_fds(channel, 256, 1)
            except OSError as error:
                self._stop()
                raise HelperError(f"the export helpers' fork server failed: {error}") from None
            if len(message) != 8 or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                self._stop()
                raise HelperError(f"the export helpers' fork server refused: {message!r}")
        (pid,) = struct.unpack("<q", message)
        return pid, fds[0]

    def _running(self, preload: tuple[str, ...], timeout: float) -> socket.socket:
        if self._process is not None and self._process.poll() is None:
            return self._channel
        self._stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {name: value for name, value in os.environ.items() if name not in SECRETS}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
        command = (
            f"from app.exports.engine.helpers import serve; serve({theirs.fileno()}, {preload!r})"
        )
        try:
            process = subprocess.Popen(
                # -P: the engine from PYTHONPATH (this checkout), not an app in the working
                # directory (another checkout's, say)
                [sys.executable, "-P", "-c", command],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        self._process, self._channel = process, ours
        try:
            ours.settimeout(timeout)
            ready = ours.recv(64)
        except OSError:
            ready = b""
        if ready != READY:
            self._stop()
            raise HelperError("the export helpers' fork server did not start")
        return ours

    def _stop(self) -> None:
        """Let the server go: it ends when its end of the channel closes."""
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            try:
                self._process.wait(ENDING)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = self._channel = None

    def forget(self) -> None:
        """In a child forked from this process: the server is the parent's, not ours."""
        self._lock = threading.Lock()
        if self._channel is not None:
            self._channel.close()  # the parent's copy stays open
        self._process = self._channel = None


_SERVER = _Server()
os.register_at_fork(after_in_child=_SERVER.forget)


# The fork server's side.


def serve(fd: int, preload: tuple[str, ...]) -> None:
    """The fork server (in a process of its own): import ``preload``, then fork one helper
    for each request on the channel ``fd`` (the modules to import first, and two pipe ends),
    until the exporting process closes it."""
    # Ctrl-C in a terminal reaches the whole group: the exporting process decides, and its
    # helpers (which keep this) are ended by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # helpers are reaped by the system
    channel = socket.socket(fileno=fd)
    for name in preload:
        importlib.import_module(name)
    channel.sendall(READY)
    while True:
        message, fds, _flags, _address = socket.recv_fds(channel, 4096, 2)
        if not message:
            return  # the exporting process has closed its end, or ended
        refusal = _refusal(message.decode().split(), fds)
        if refusal:
            for descriptor in fds:
                os.close(descriptor)
            channel.sendall(refusal.encode())
            continue
        pid = os.fork()
        if pid == 0:
            _run_helper(*fds)  # never returns
        pidfd = os.pidfd_open(pid)
        for descriptor in fds:
            os.close(descriptor)
        try:
            socket.send_fds(channel, [struct.pack("<q", pid)], [pidfd])
        finally:
            os.close(pidfd)


def _refusal(modules: list[str], fds: list[int]) -> str | None:
    """Why the server cannot fork this helper, if it cannot: it needs its two pipe ends, its
    modules imported, and this process to have one thread."""
    if len(fds) != 2:
        return "refused: a helper needs two pipes"
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:
            return f"refused: {name} cannot be imported ({error!r})"
    if _threads() != 1:
        return "refused: the fork server runs more than one thread"
    return None


def _threads() -> int:
    """Threads in this process, the ones C libraries start included."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def _run_helper(job: int, parts: int) -> None:
    """A helper, just forked by the server: keep the two pipes and the standard streams, close
    the rest (the server's channel), read the job, run it, and end."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _close_all_but({0, 1, 2, job, parts})
        with os.fdopen(job, "rb") as f:
            work, args = pickle.load(f)
        work(Output(parts), *args)
    except BrokenPipeError:
        code = 1  # the exporting process stopped reading: nobody to tell
    except BaseException:
        code = 1
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        os._exit(code)


def _close_all_but(kept: set[int]) -> None:
    start = 0
    for fd in sorted(kept):
        if start < fd:  # (closerange with nothing to close closes everything, on Linux)
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))
