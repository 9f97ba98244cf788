"""The ``cases`` command group: exports and imports add their commands to it
(``cases export``, ``cases import``)."""

from flask.cli import AppGroup

cases_cli = AppGroup("cases", help="Export and import cases as CSV.")
