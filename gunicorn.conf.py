"""gunicorn settings for `make serve`. Override any of them with GUNICORN_CMD_ARGS."""

import os

bind = os.environ.get("HUQUQ_BIND", "127.0.0.1:8000")
# Threaded workers: a slow download (a large CSV over a poor connection) holds one thread,
# not a whole worker.
worker_class = "gthread"
workers = int(os.environ.get("HUQUQ_WORKERS", "2"))
threads = int(os.environ.get("HUQUQ_THREADS", "8"))
# A request may take long (exports); a worker that says nothing for this long is restarted.
timeout = 120
graceful_timeout = 30
# Access logs carry the path, never the query string or body: no filters, no names. The
# logger escapes what a request brings (no forged lines) and hides a calendar link's secret.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
logger_class = "app.serving.AccessLog"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Start what the export engine needs before the worker's threads exist and before the
    first export would wait for it (app/exports/engine)."""
    import logging

    from app.exports.engine import prepare_worker

    try:
        prepare_worker(worker.wsgi)
    except Exception:  # the first export tries again
        logging.getLogger(__name__).exception("the export engine was not prepared")
