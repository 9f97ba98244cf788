"""How names, phones and document numbers are normalised before they are hashed for search and
for finding possible duplicates. Pure functions.

Central Asian names reach the group in several spellings: Cyrillic from a Russian form, Uzbek
Latin from a passport, an English transliteration from a messenger. Each word is reduced to a
skeleton that those spellings share: Худойбердиев, Khudoyberdiev and Xudoyberdiyev all become
"hudoberdiev"; Абдуллаев and Abdullaev become "abdulaev".
"""

import re
import unicodedata

from app.crypto import Keys, blind

CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ы": "i",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Uzbek, Tajik, Kyrgyz, Kazakh letters
    "ғ": "g",
    "қ": "k",
    "ҳ": "h",
    "ў": "u",
    "ӯ": "u",
    "ӣ": "i",
    "ҷ": "j",
    "ң": "n",
    "ү": "u",
    "ө": "o",
    "ә": "a",
    "һ": "h",
    "і": "i",
    "ұ": "u",
}
# Latin spellings of the same sounds, longest first.
LATIN = [
    ("dzh", "j"),
    ("kh", "h"),
    ("zh", "j"),
    ("dj", "j"),
    ("gh", "g"),
    ("sch", "sh"),
    ("x", "h"),
    ("q", "k"),
    ("w", "v"),
    ("c", "k"),
    ("y", ""),
]
_APOSTROPHES = re.compile(r"[\'’ʻʼ`´]")
_TO_LATIN = str.maketrans(CYRILLIC)
_NOT_LATIN = re.compile(r"[^a-z0-9]+")
_DOUBLED = re.compile(r"([a-z])\1+")
_WORDS = re.compile(r"[\s,.;/-]+")


def skeleton(word: str) -> str:
    """The spelling-independent form of one word of a name."""
    text = unicodedata.normalize("NFKC", word).casefold().translate(_TO_LATIN)
    text = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text))
    text = _NOT_LATIN.sub("", text)
    for latin, sound in LATIN:
        text = text.replace(latin, sound)
    return _DOUBLED.sub(r"\1", text)  # doubled letters: Abdullaev = Abdulaev


def name_tokens(name: str) -> list[str]:
    """The skeletons of a name's words (two letters or more), each once."""
    tokens = []
    for word in _WORDS.split(name):
        token = skeleton(word)
        if (len(token) >= 2 or token.isdigit()) and token not in tokens:
            tokens.append(token)
    return tokens


def same_name_key(name: str) -> str:
    """Two written names are the same person's when this is equal: the same words in any
    spelling and order (a name with no letters at all is compared as written)."""
    return " ".join(sorted(name_tokens(name))) or " ".join(name.casefold().split())


def phone_tokens(phone: str) -> list[str]:
    """The number's digits, and its last nine (how it is often written without the country
    code)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 5:
        return []
    return list(dict.fromkeys([digits, digits[-9:]]))


def document_token(number: str) -> str | None:
    """A passport or document number, letters and digits only, in capitals."""
    token = re.sub(r"[^0-9A-Za-zА-Яа-яЁё]", "", number).upper()
    return token or None


def search_digests(
    full_name: str | None, phone: str | None, document: str | None, keys: Keys | None = None
) -> list:
    """(kind, digest) pairs a client is found by: each name word, the whole name (words in any
    order), the phone, the document number. ``keys``: other keys than the app's (rotation)."""
    pairs = []
    if full_name:
        pairs += [("name", blind("name", t, keys)) for t in name_tokens(full_name)]
        pairs.append(("fullname", blind("fullname", same_name_key(full_name), keys)))
    if phone:
        pairs += [("phone", blind("phone", t, keys)) for t in phone_tokens(phone)]
    if document and (token := document_token(document)):
        pairs.append(("doc", blind("doc", token, keys)))
    return pairs
