"""The range of dates the app takes, written once: every form, filter, import and URL that
takes a date refuses one outside it with a message, so a slip of the keyboard (0001, 9999) is
caught before it reaches the database or the term arithmetic."""

from datetime import date

# A person's date of birth.
BIRTH_DATES_FROM = date(1900, 1, 1)
# Anything that happens in a case (opened, ruling, hearing, deadline, closed), a report's
# period, a working-calendar day.
CASE_DATES_FROM = date(1990, 1, 1)
CASE_DATES_TO = date(2100, 12, 31)


def is_case_date(day: date) -> bool:
    """Whether ``day`` is one a case can hold."""
    return CASE_DATES_FROM <= day <= CASE_DATES_TO


def today() -> date:
    """Today's date in HUQUQ_TIMEZONE (the app's zone), never the server clock's own date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flask import current_app, has_app_context

    zone = "Europe/Moscow"
    if has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", zone)
    return datetime.now(ZoneInfo(zone)).date()
