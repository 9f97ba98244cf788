"""A real Huquq for the browser tests and the load test: a fresh SQLite instance made by the
command line (migrations, users, demo cases) and gunicorn serving it on a free local port."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path, users: dict[str, str], password: str, cases: int, seed: int) -> dict:
    """Migrate a new SQLite database in ``folder``, create ``users`` (email → role) and seed
    ``cases`` demo cases; the environment that serves it is returned."""
    env = {
        **os.environ,
        "HUQUQ_INSTANCE": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
    }

    def flask(*args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            input=stdin,
            text=True,
        )

    flask("db", "upgrade")
    for email, role in users.items():
        flask("users", "create", email, "--role", role, stdin=password + "\n")
    flask("demo", "seed", "--cases", str(cases), "--seed", str(seed))
    return env


@contextmanager
def serving(env: dict, log: Path, workers: int, threads: int | None = None):
    """gunicorn with ``gunicorn.conf.py``, up and answering /healthz, its error log in ``log``;
    yields its base URL."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *(("--threads", str(threads)) if threads else ()),  # else gunicorn.conf.py's
        *("--error-logfile", str(log), "wsgi:app"),
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            server.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
