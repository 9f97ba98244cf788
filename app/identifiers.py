"""Random public codes: case references and client pseudonyms.

Random rather than sequential, so a reference says nothing about how many cases there are or
which came first, and a pseudonym says nothing about the name behind it.
"""

import random
import secrets

# Crockford's base32: no I, L, O or U, so a code read over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(
    prefix: str, groups: int = 2, size: int = 4, rng: random.Random | None = None
) -> str:
    """``PREFIX-XXXX-XXXX`` from the system's CSPRNG, or from ``rng`` if given (demo seed)."""
    choose = rng.choice if rng is not None else secrets.choice
    parts = ("".join(choose(ALPHABET) for _ in range(size)) for _ in range(groups))
    return "-".join((prefix, *parts))


def new_case_reference(rng: random.Random | None = None) -> str:
    return random_code("HQ", rng=rng)


def new_pseudonym(rng: random.Random | None = None) -> str:
    return random_code("P", rng=rng)


def normalise_code(text: str) -> str:
    """A code as typed by a person: case and the look-alike letters forgiven."""
    return text.strip().upper().translate(str.maketrans("OIL", "011"))
