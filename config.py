"""Configuration read from the environment, with safe defaults.

Nothing here imports from ``app``: the factory takes one of these classes.
"""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("HUQUQ_INSTANCE", ROOT / "instance"))


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in ``instance/``."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written with owner-only permissions: the key signs every session cookie.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    INSTANCE_PATH = INSTANCE
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE / 'huquq.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 15_000
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # The session cookie holds only a random token (app/auth/sessions.py); it is HttpOnly,
    # SameSite=Lax, and Secure whenever the request came over HTTPS.
    SESSION_COOKIE_NAME = "huquq_session"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    # The proxies whose X-Forwarded-For names the client (app/proxy.py): gunicorn's setting.
    FORWARDED_ALLOW_IPS = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    # Passwords hashed at once per worker process (argon2id takes 64 MiB each), and how long a
    # request waits for a turn before it is answered "busy, try again" (seconds): short, since
    # a waiting request holds one of the worker's threads (app/auth/hashing.py).
    PASSWORD_HASHING_SLOTS = int(os.environ.get("HUQUQ_HASHING_SLOTS", "2"))
    PASSWORD_HASHING_WAIT = float(os.environ.get("HUQUQ_HASHING_WAIT", "0.1"))
    # Ended and expired sessions are deleted after a response at most this often (seconds).
    HOUSEKEEPING_EVERY: int | None = 300
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # an upload (CSV import) of at most 20 MB
    CASES_PER_PAGE = 25
    # Encryption keys (app/crypto.py): from the environment, else a key file made on first run.
    HUQUQ_MASTER_KEY = os.environ.get("HUQUQ_MASTER_KEY")
    HUQUQ_INDEX_KEY = os.environ.get("HUQUQ_INDEX_KEY")
    HUQUQ_KEY_FILE = os.environ.get("HUQUQ_KEY_FILE", str(INSTANCE / "huquq.keys"))
    # A long cases export may be read in parts by this many helper processes (app/exports/engine
    # decides); unset: one per processor, at most 4; 0 or 1: none. A part covers
    # HUQUQ_EXPORT_PART_IDS case ids (default 2,500), and a helper that has not sent its next part
    # within HUQUQ_EXPORT_PART_TIMEOUT seconds (default 30) is killed and the export ends with an
    # error.
    HUQUQ_EXPORT_HELPERS = os.environ.get("HUQUQ_EXPORT_HELPERS")
    HUQUQ_EXPORT_PART_IDS = os.environ.get("HUQUQ_EXPORT_PART_IDS")
    HUQUQ_EXPORT_PART_TIMEOUT = os.environ.get("HUQUQ_EXPORT_PART_TIMEOUT")
    BABEL_DEFAULT_LOCALE = "en"  # the source language; the browser or the user picks Russian
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("HUQUQ_TIMEZONE", "Europe/Moscow")

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key(Path(self.INSTANCE_PATH))


class TestConfig(Config):
    __test__ = False  # not a pytest test class
    TESTING = True

    def __init__(self, database_url: str, instance: Path) -> None:
        self.INSTANCE_PATH = instance
        self.SQLALCHEMY_DATABASE_URI = database_url
        self.SECRET_KEY = "test-only-" + secrets.token_hex(8)
        self.HUQUQ_KEY_FILE = str(instance / "huquq.keys")
        # Cheap hashing keeps the suite fast; the hashing code path is the same.
        self.ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
        # No housekeeping between requests: tests count statements and rows; the tests of
        # housekeeping turn it on.
        self.HOUSEKEEPING_EVERY = None
