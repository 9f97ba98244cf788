"""The WSGI entry point: ``gunicorn wsgi:app``, ``flask --app wsgi …``."""

import sys

from app import create_app

app = create_app()

if "gunicorn" in sys.modules:  # served by gunicorn, with gunicorn.conf.py or without it
    from app.serving import hide_server_header

    hide_server_header()
