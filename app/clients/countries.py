"""Citizenship as ISO 3166-1 alpha-2 codes, with names in the interface language."""

import gettext
from functools import cache

import pycountry

CODES = frozenset(c.alpha_2 for c in pycountry.countries)
# The countries most clients come from, listed first in choices.
COMMON = ("UZ", "TJ", "KG", "KZ", "TM", "AZ", "AM", "GE", "MD", "UA", "BY", "AF", "RU")


@cache
def _translation(locale: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True
    )


def country_name(code: str, locale: str = "en") -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return _translation(locale).gettext(getattr(country, "common_name", country.name))


@cache
def country_choices(locale: str = "en") -> tuple[tuple[str, str], ...]:
    """(code, "Name (CODE)") pairs: the common countries first, then the rest by name."""
    rest = sorted(CODES - set(COMMON), key=lambda c: country_name(c, locale))
    return tuple((c, f"{country_name(c, locale)} ({c})") for c in (*COMMON, *rest))
