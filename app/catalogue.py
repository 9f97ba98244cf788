"""The interface language's catalogue and formats, looked up once per request.

Flask-Babel finds the catalogue again for every string it translates (the locale, its name, a
dictionary lookup, each through several context proxies), and builds the number and date
formats again for every figure: a dashboard translates some 700 strings and formats some 600
numbers. Here the request's catalogue is kept beside its locale, where Flask-Babel's
``refresh()`` and ``force_locale()`` drop or replace it, and a formatted number or date is
remembered per locale: the same count, rate or day in the same language is the same text, for
anyone (nothing of a user's is kept).
"""

from datetime import date
from functools import lru_cache

import flask_babel
from babel import Locale, dates, numbers
from flask import g
from flask_babel import Babel, Domain, get_locale
from flask_babel import _get_current_context as _babel_context
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.utils import cached_property


class RequestDomain(Domain):
    """The app's message domain: its catalogue found once per request, not once per string."""

    def get_translations(self):
        ctx = _babel_context()
        if ctx is None:  # outside a request: no catalogue
            return super().get_translations()
        # None inside force_locale() until looked up; removed by refresh().
        translations = getattr(ctx, "babel_translations", None)
        if translations is None:
            translations = ctx.babel_translations = super().get_translations()
        return translations


class RequestBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)

    def init_app(self, app, *args, **kwargs) -> None:
        super().init_app(app, *args, **kwargs)
        # The templates' _(), ngettext(): as Jinja's "new style" ones (autoescaped, always a
        # format string), straight to the request's catalogue.
        app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
        app.jinja_env.filters["dateformat"] = date_format


@pass_context
def _gettext(context, string: str, **variables) -> str:
    text = _catalogue().ugettext(string)
    text = Markup(text) if context.eval_ctx.autoescape else text
    return text % variables if variables or "%" in text else text  # no % in it: as it is


@pass_context
def _ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    text = _catalogue().ungettext(singular, plural, num)
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables


def _catalogue():
    """The request's catalogue: one look at Flask-Babel's request state once it is known."""
    try:
        translations = g._flask_babel.babel_translations
    except (AttributeError, RuntimeError):  # not looked up yet, or outside a request
        return flask_babel.get_translations()
    return translations if translations is not None else flask_babel.get_translations()


@lru_cache(maxsize=4096)
def _number(value, locale: Locale) -> str:
    return numbers.format_decimal(value, locale=locale)


@lru_cache(maxsize=4096)
def _date(value: date, format: str, locale: Locale) -> str:
    return dates.format_date(value, format, locale=locale)


def format_number(value) -> str:
    """A count with the language's digit grouping ("1,167", "1 167")."""
    return _number(value, get_locale())


def date_format(value=None, format: str | None = None, rebase: bool = True) -> str:
    """Flask-Babel's ``dateformat`` filter, with a day's text remembered per language and
    pattern (a timestamp, rebased to the user's time zone, is formatted as before)."""
    if type(value) is not date:
        return flask_babel.format_date(value, format, rebase)
    return _date(value, flask_babel._get_format("date", format), get_locale())
