"""What the app asks of gunicorn: access and error logs with nothing secret and no forged
line (app/logs.py), and no banner naming the server.

gunicorn.conf.py names ``AccessLog`` as gunicorn's logger class; wsgi.py calls
``hide_server_header`` whenever gunicorn serves the app, with our configuration or without it.
"""

from gunicorn.glogging import Logger
from gunicorn.http import wsgi

from app.logs import escaped, mask_record, without_secrets


def _wsgi_text(value: str) -> str:
    """A WSGI string (bytes read as Latin-1) as the UTF-8 text it holds; bytes that are not
    UTF-8 stay visible (as escapes, once ``escaped``)."""
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value


def loggable(value: str) -> str:
    """What of a request may go into a log: the text, its secrets hidden, escaped."""
    return escaped(without_secrets(_wsgi_text(value)))


class AccessLog(Logger):
    """gunicorn's logger, with every value it logs from a request made ``loggable``, and the
    query string left out wherever a format could name it (``%(q)s``, ``%(r)s``, ``RAW_URI``):
    filters name people's regions and dates. Its error log hides secrets too."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.error_log.addFilter(mask_record)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO", "")
        atoms["q"] = atoms["{query_string}e"] = "-"
        atoms["{raw_uri}e"] = path
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        return {
            name: loggable(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }


def hide_server_header() -> None:
    """gunicorn's responses leave out the ``Server: gunicorn`` line that its
    ``Response.default_headers`` writes (it has no setting for it): a banner that tells a
    scanner what to try. (HTTP/2, which gunicorn offers only with the h2 package and a setting
    of its own, is not served here.)"""
    default_headers = wsgi.Response.default_headers
    if getattr(default_headers, "hides_server", False):
        return

    def without_server(self) -> list[str]:
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    without_server.hides_server = True
    wsgi.Response.default_headers = without_server
