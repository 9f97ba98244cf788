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
    if rng is not None:
        parts = ("".join(rng.choice(ALPHABET) for _ in range(size)) for _ in range(groups))
        return "-".join((prefix, *parts))
    # Five random bits a character (the alphabet has 32): as uniform as a choice per
    # character, in one call to the CSPRNG (an import makes tens of thousands of codes).
    bits = secrets.randbits(5 * size * groups)
    chars = [ALPHABET[(bits >> (5 * n)) & 31] for n in range(size * groups)]
    parts = ("".join(chars[g * size : (g + 1) * size]) for g in range(groups))
    return "-".join((prefix, *parts))


def new_case_reference(rng: random.Random | None = None) -> str:
    return random_code("HQ", rng=rng)


def new_pseudonym(rng: random.Random | None = None) -> str:
    return random_code("P", rng=rng)


def normalise_code(text: str) -> str:
    """A code as typed by a person: case and the look-alike letters forgiven."""
    return text.strip().upper().translate(str.maketrans("OIL", "011"))
