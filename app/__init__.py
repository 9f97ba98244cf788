"""The application factory, and the order the app's parts depend on each other.

Each layer may import the layers below it (and its own), never one above; the factory
(``create_app`` here) and the model registry (``app/models.py``) are the composition root that
puts them all together. ``tests/test_layers.py`` reads ``LAYERS`` and fails on an import that
points up, at module level or inside a function alike.

    main, demo        the home and error pages; synthetic data through every area's services
    imports           CSV in: checks rows, then opens cases and clients in bulk
    exports           CSV out: the cases list and the report
    reports           the dashboard's figures, benchmarks (reads cases, clients, deadlines)
    deadlines         the deadlines pages, rules, working calendar, calendar feed
    security          keys, retention, backups (erases and re-wraps clients' data)
    clients           the people; a volunteer sees a client through the cases they see
    cases             cases, their timeline and deadlines (deadlines/models.py sits here:
                      a case's deadlines are written with the case)
    auth              accounts, sessions, throttling (uploads: a file kept with its session)
    audit             the trail every write leaves (knows tables, not areas); rendered: page
                      bodies remembered while the trail's stamp stays the same
    kernel            extensions, models_base, dates, errors, urls, identifiers, crypto, files,
                      database, logs, proxy, serving, forms_base, access (roles, not records),
                      catalogue (the request's translations, found once), csvfiles (the
                      CSV rule: SPEC's columns, the formula guard, the one writer)
"""

import logging
from importlib import import_module
from pathlib import Path

from flask import Flask, request
from flask_babel import get_locale
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import babel, csrf, db, login_manager
from app.logs import mask_log_records

# Bottom first: (layer, the modules and packages in it). See the docstring.
LAYERS = (
    (
        "kernel",
        (
            "app.extensions",
            "app.models_base",
            "app.dates",
            "app.errors",
            "app.urls",
            "app.identifiers",
            "app.crypto",
            "app.files",
            "app.database",
            "app.logs",
            "app.proxy",
            "app.serving",
            "app.forms_base",
            "app.access",
            "app.catalogue",
            "app.csvfiles",
            "app.translations",
        ),
    ),
    ("audit", ("app.audit", "app.rendered")),
    ("auth", ("app.auth", "app.uploads")),
    ("cases", ("app.cases", "app.deadlines.models")),
    ("clients", ("app.clients",)),
    ("security", ("app.security",)),
    ("deadlines", ("app.deadlines",)),
    ("reports", ("app.reports",)),
    ("exports", ("app.exports",)),
    ("imports", ("app.imports",)),
    ("demo", ("app.demo",)),
    ("main", ("app.main",)),
)
# May import anything: they assemble the app.
COMPOSITION_ROOT = ("app", "app.models")

ROOT = Path(__file__).resolve().parent.parent
# Browser features the pages never use: denied to them and to anything they might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "battery",
        "bluetooth",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "web-share",
        "xr-spatial-tracking",
    )
)


def create_app(config=None) -> Flask:
    """Build the app from a config object (default: ``config.Config()`` from the environment)."""
    if config is None:
        from config import Config

        config = Config()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(config.INSTANCE_PATH),
    )
    app.config.from_object(config)
    _private_instance(Path(app.instance_path))
    from app.dates import check_timezone

    check_timezone(app.config["BABEL_DEFAULT_TIMEZONE"])  # a typo stops the start, not a page
    from app.proxy import TrustedProxies

    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["FORWARDED_ALLOW_IPS"])
    logging.basicConfig(level=logging.INFO)
    mask_log_records()  # no calendar secret, no forged line, in any log (app/logs.py)

    _init_extensions(app)
    _register_converters(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_cli(app)
    _register_security(app)
    return app


def _private_instance(folder: Path) -> None:
    """The instance folder (the SQLite database, the keys, uploads) is its owner's alone."""
    from app.database import tighten

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tighten(folder, 0o700)


def _init_extensions(app: Flask) -> None:
    from flask_sqlalchemy.session import Session as FlaskSession

    from app.audit.services import install as install_audit
    from app.auth.models import User
    from app.auth.sessions import DatabaseSessionInterface
    from app.database import Migrations, configure_postgresql, configure_sqlite

    import_module(
        "app.models"
    )  # every model mapped before the keys are checked and audit hooks go in
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
            # The same wait for a lock on PostgreSQL.
            configure_postgresql(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.extensions["migrate"] = Migrations(str(ROOT / "migrations"), render_as_batch=True)
    _init_keys(app)
    # Before the CSRF check: a session the database could not read (down, or busy past the
    # timeout) is a 503 "busy"/"unreachable" page, never a 400 "form out of date".
    app.before_request(_refuse_unread_session)
    from app.auth.hooks import refuse_beyond_hashing_share

    app.before_request(refuse_beyond_hashing_share)
    csrf.init_app(app)
    from app.auth.hooks import select_locale
    from app.auth.models import LOCALES
    from app.translations import compiled_catalogues

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        compiled_catalogues(
            Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]), Path(app.instance_path)
        )
    )
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(get_locale=get_locale, locales=LOCALES)
    install_audit(FlaskSession)
    app.session_interface = DatabaseSessionInterface()
    from app.auth.housekeeping import after_response_when_due, also_tidy
    from app.deadlines.services import recount_when_the_calendar_changed

    app.after_request(after_response_when_due)
    also_tidy(app, "deadline recounts", recount_when_the_calendar_changed)
    login_manager.init_app(app)
    # Sessions are server-side and revocable; "strong" would also log a volunteer out each
    # time their phone changes network, so a changed address only marks the session non-fresh.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.is_enabled else None


def _refuse_unread_session() -> None:
    from flask import session

    if (failure := getattr(session, "failure", None)) is not None:
        raise failure


def _init_keys(app: Flask) -> None:
    """Load the encryption keys and refuse to start if they are not this database's. Only
    reads: a database that has no check row yet gets it at the first request."""
    from app.crypto import KeysDoNotOpen, load_keys
    from app.security.queries import check_keys

    app.extensions["huquq_keys"] = load_keys(app.config)
    with app.app_context():
        try:
            to_record = check_keys()
        except KeysDoNotOpen as error:
            raise SystemExit(
                f"Huquq will not start: {error}. Use the key file (HUQUQ_KEY_FILE) or the keys "
                "(HUQUQ_MASTER_KEY, HUQUQ_INDEX_KEY) this database was made with."
            ) from None
        except OperationalError:
            # The database is down: serve "unavailable" until it is back, and check the keys
            # before the first request that reaches it (never write under unchecked keys).
            logging.getLogger(__name__).warning(
                "database unreachable at start; keys not checked yet"
            )
            to_record = True
        finally:
            db.session.remove()
    if to_record:
        app.before_request(_check_keys_once)


def _check_keys_once() -> None:
    """before_request until it is done once: check the keys (if the database was down at the
    start) and write the check row that later starts verify them against."""
    from flask import current_app
    from sqlalchemy.exc import IntegrityError

    from app.security.queries import check_keys
    from app.security.services import record_key_check

    if current_app.extensions.get("huquq_keys_checked"):
        return
    if check_keys():
        record_key_check()
        try:
            db.session.commit()
        except IntegrityError:  # another worker wrote it first: check against theirs
            db.session.rollback()
            check_keys()
    current_app.extensions["huquq_keys_checked"] = True


def _register_converters(app: Flask) -> None:
    """Before any route is added: every ``<int:…>`` takes only numbers an id column holds."""
    from app.urls import IdConverter

    app.url_map.converters["int"] = IdConverter


def _register_blueprints(app: Flask) -> None:
    from app.audit.routes import bp as audit_bp
    from app.auth.routes import bp as auth_bp
    from app.cases.routes import bp as cases_bp
    from app.clients.routes import bp as clients_bp
    from app.deadlines.routes import bp as deadlines_bp
    from app.exports.routes import bp as exports_bp
    from app.imports.routes import bp as imports_bp
    from app.main.routes import bp as main_bp
    from app.reports.routes import bp as reports_bp
    from app.security.routes import bp as security_bp

    for bp in (
        main_bp,
        auth_bp,
        audit_bp,
        clients_bp,
        cases_bp,
        reports_bp,
        exports_bp,
        imports_bp,
        deadlines_bp,
        security_bp,
    ):
        app.register_blueprint(bp)


def _register_errors(app: Flask) -> None:
    from app.errors import Busy
    from app.main.routes import (
        handle_busy,
        handle_database_down,
        handle_http_error,
        handle_unexpected_error,
    )

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(Busy, handle_busy)
    app.register_error_handler(Exception, handle_unexpected_error)


def _register_cli(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.cases.cli import cases_cli
    from app.database import MigrationCommands
    from app.deadlines.cli import deadlines_cli
    from app.demo.cli import demo_cli
    from app.exports.cli import report_command  # also adds `cases export`
    from app.imports import cli as imports_cli  # noqa: F401  adds `cases import`
    from app.security.cli import backup_command, keys_cli, restore_command, retention_cli

    app.cli.add_command(MigrationCommands("db", help="Migrate the database (Alembic)."))
    app.cli.add_command(users_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(deadlines_cli)
    app.cli.add_command(report_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _register_security(app: Flask) -> None:
    from app.access import enforce_access, public
    from app.urls import refuse_nul_characters

    app.before_request(refuse_nul_characters)
    app.before_request(enforce_access)
    send_static = app.view_functions["static"]

    @public
    def static(filename: str):
        """Stylesheet, script and icon: needed by the login page too."""
        return send_static(filename=filename)

    app.view_functions["static"] = static

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Same-origin: another site learns nothing of the page a link came from, while the
        # app's own form posts carry the Referer that CSRF protection demands over HTTPS.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.is_secure:  # over plain HTTP a browser ignores it
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000")
        if request.endpoint != "static":  # pages may show clients: never kept in a cache
            response.headers["Cache-Control"] = "no-store"
        return response
