"""Judging a new password: long enough, and not easy to guess — by zxcvbn, which knows English
words, names, keyboard patterns, dates and common passwords, taught here what it does not know
for Russian speakers:

- the Russian keyboard: a password is also judged as the keys it was typed on in the other
  layout (``йцукен`` is ``qwerty``; ``gfhjkm`` is ``пароль``), and the weakest reading counts;
- common Russian password words, names and places (``RUSSIAN_WORDS``, our own list), each also
  in its Latin spellings (``parol``) and as typed on a QWERTY layout (``gfhjkm``);
- the account's email in any form: whole, in pieces, without its dots, in Cyrillic letters,
  reversed or with substitutions (zxcvbn tries those), typed in the other layout;
- one or two common words padded only with digits and symbols (``Пароль2024!!``), which zxcvbn
  scores as if the digits were random, are refused too.

zxcvbn keeps the account's words in a global of its own, so it is called by one thread at a time.
"""

import itertools
import re
import threading

from flask_babel import gettext as _
from flask_babel import ngettext

PASSWORD_MIN, PASSWORD_MAX = 12, 128
MIN_STRENGTH = 3  # zxcvbn's score, 0–4: "safely unguessable" and up
JUDGED_LENGTH = 64  # zxcvbn is slow on very long input and only needs the start to judge it


def N_(text: str) -> str:
    """Marks a string for the catalogue; it is translated where it is shown."""
    return text


# zxcvbn explains a weak password in English, in these sentences; they are in our catalogue.
ZXCVBN_SENTENCES = frozenset(
    {
        N_("A word by itself is easy to guess."),
        N_("Add another word or two. Uncommon words are better."),
        N_("All-uppercase is almost as easy to guess as all-lowercase."),
        N_("Avoid dates and years that are associated with you."),
        N_("Avoid recent years."),
        N_("Avoid repeated words and characters."),
        N_("Avoid sequences."),
        N_("Avoid years that are associated with you."),
        N_("Capitalization doesn't help very much."),
        N_("Common names and surnames are easy to guess."),
        N_("Dates are often easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
        N_("Recent years are easy to guess."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        N_("Reversed words aren't much harder to guess."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Short keyboard patterns are easy to guess."),
        N_("Straight rows of keys are easy to guess."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("Use a few words, avoid common phrases."),
        N_("Use a longer keyboard pattern with more turns."),
    }
)
MORE_WORDS = "Add another word or two. Uncommon words are better."
ALL_UPPERCASE = "All-uppercase is almost as easy to guess as all-lowercase."
CAPITALISED = "Capitalization doesn't help very much."

# The same keys on the two layouts (ЙЦУКЕН and QWERTY), unshifted and shifted.
_RUSSIAN_KEYS = "йцукенгшщзхъфывапролджэячсмитьбю.ёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,Ё"
_LATIN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,./`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>?~"
TO_LATIN_KEYS = str.maketrans(_RUSSIAN_KEYS, _LATIN_KEYS)
TO_RUSSIAN_KEYS = str.maketrans(_LATIN_KEYS, _RUSSIAN_KEYS)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)

# Common Russian password words, names, surnames and places, most common first (the order is
# zxcvbn's rank: the earlier, the easier to guess). Our own list.
_RUSSIAN_WORDS = """
пароль любовь привет солнышко люблютебя ятебялюблю наташа максим москва россия
катя саша котик зайка малыш солнце ангел настя лена андрей дима сергей александр
наталья мама папа секрет доступ админ вход логин компьютер интернет телефон счастье
мечта свобода жизнь родина бог мир друг подруга дружба семья сынок дочка доченька
бабушка дедушка кошка кот котёнок собака мурка барсик шарик тигр лев волк медведь
лиса дракон орёл сокол ворон зенит спартак цска динамо локомотив рубин футбол хоккей
чемпион победа лидер король королева принц принцесса царь господь иисус христос
вера надежда удача деньги работа школа учитель студент машина лада жигули волга
пиво водка шоколад конфета клубника малина вишня яблоко апельсин лимон кофе
огонь вода земля ветер снег дождь луна звезда звёздочка небо море океан космос
планета ракета танк солдат армия война герой воин охотник рыбалка охота музыка
гитара песня танец кино книга сказка игра кукла мишка медвежонок пупсик ёжик белка
хомяк рыбка птичка лапочка киса кисуля красавица красотка умница дурак блин
весна лето осень зима цветок цветы роза ромашка лес дом дача река
январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь
понедельник вторник среда четверг пятница суббота воскресенье любимая любимый родная
родной милая милый зайчик сокровище добро хорошо спасибо супер бизнес команда монстр
ниндзя чебурашка пушок мышка бабочка путин
алексей алёша андрюша антон артём артур борис вадим валентин валерий василий вася
виктор виталий владимир вова володя владислав влад вячеслав геннадий георгий
григорий даниил данил денис дмитрий евгений женя егор иван ваня игорь илья кирилл
константин костя леонид макс марк матвей михаил миша никита николай коля олег
павел паша пётр петя роман рома руслан серёжа серёга станислав стас степан тимур
тимофей фёдор федя юрий юра ярослав александра алёна алина алиса алла анастасия
ангелина анна аня анюта валентина валя валерия вероника виктория вика галина галя
дарья даша диана ева евгения екатерина катюша елена леночка елизавета лиза жанна
зоя инна ирина ира иришка карина кристина ксения ксюша лариса лидия люба людмила
люда маргарита рита марина мария маша машенька милана надя наталия нина оксана
ольга оля полина светлана света софия софья соня таня татьяна ульяна юлия юля яна
рустам фарход шерзод азиз бахтиёр дилшод жасур фарид зарина малика гульнара дилноза
иванов смирнов кузнецов попов васильев петров соколов михайлов новиков фёдоров
морозов волков алексеев лебедев семёнов егоров павлов козлов степанов николаев
питер петербург санктпетербург ленинград новосибирск екатеринбург казань
нижнийновгород челябинск самара омск ростов уфа красноярск воронеж пермь волгоград
краснодар саратов тюмень тольятти ижевск барнаул иркутск хабаровск ярославль
владивосток махачкала томск оренбург кемерово рязань астрахань пенза липецк киров
тула калининград курск сочи крым мурманск сургут якутск минск киев ташкент душанбе
бишкек алматы самарканд бухара украина беларусь узбекистан таджикистан киргизия
казахстан кыргызстан
"""
RUSSIAN_WORDS = tuple(_RUSSIAN_WORDS.split())

# Latin spellings of each Cyrillic letter, the usual one first.
_LATIN_SPELLINGS = {
    "а": ("a",),
    "б": ("b",),
    "в": ("v", "w"),
    "г": ("g",),
    "д": ("d",),
    "е": ("e",),
    "ё": ("e", "yo"),
    "ж": ("zh", "j"),
    "з": ("z",),
    "и": ("i",),
    "й": ("y", "i", "j"),
    "к": ("k",),
    "л": ("l",),
    "м": ("m",),
    "н": ("n",),
    "о": ("o",),
    "п": ("p",),
    "р": ("r",),
    "с": ("s",),
    "т": ("t",),
    "у": ("u",),
    "ф": ("f",),
    "х": ("h", "kh", "x"),
    "ц": ("c", "ts"),
    "ч": ("ch",),
    "ш": ("sh",),
    "щ": ("sch", "shch"),
    "ъ": ("",),
    "ы": ("y", "i"),
    "ь": ("",),
    "э": ("e",),
    "ю": ("yu", "ju", "u"),
    "я": ("ya", "ja", "ia"),
}
SPELLINGS_PER_WORD = 12
# Latin letters back to Cyrillic, longest first: how an email's name reads in Russian.
_CYRILLIC_SPELLINGS = [
    ("shch", "щ"),
    ("sch", "щ"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ya", "я"),
    ("ja", "я"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("yo", "ё"),
    ("x", "кс"),
    *zip("abcdefghijklmnopqrstuvwyz", "абцдефгхийклмнопкрстуввыз", strict=True),
]
_NOT_LETTERS = re.compile(r"[^0-9a-zа-яё]+")
_LETTER_RUNS = re.compile(r"[^\W\d_]+")


def latin_spellings(word: str) -> list[str]:
    """``пароль`` → ``parol``, …: the usual transliterations (a dozen at most)."""
    options = [_LATIN_SPELLINGS.get(char, (char,)) for char in word]
    spellings = itertools.islice(itertools.product(*options), SPELLINGS_PER_WORD)
    return ["".join(parts) for parts in spellings]


def cyrillic_spelling(word: str) -> str:
    """``karimova`` → ``каримова``: a Latin-letter name as it is written in Russian."""
    out, i = [], 0
    while i < len(word):
        for latin, cyrillic in _CYRILLIC_SPELLINGS:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def russian_dictionary() -> dict[str, int]:
    """Every form of every word of ``RUSSIAN_WORDS``, with the word's rank: the word (with ё
    and with е), its Latin spellings, and the keys that type it on a QWERTY layout. Derived
    forms shorter than four letters are left out: they would be found inside too many words."""
    ranked: dict[str, int] = {}
    for rank, word in enumerate(RUSSIAN_WORDS, start=1):
        for form in {word, word.replace("ё", "е")}:
            derived = [*latin_spellings(form), form.translate(TO_LATIN_KEYS)]
            for spelling in [form, *(d for d in derived if len(d) >= 4)]:
                ranked.setdefault(spelling, rank)
    return ranked


def email_words(email: str) -> list[str]:
    """The account's email in the forms a password may take it: whole, without ``@`` or dots,
    its name and domain, each word of them, and those in Cyrillic letters."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    pieces = [email, local, domain, _NOT_LETTERS.sub("", email), _NOT_LETTERS.sub("", local)]
    for part in (local, domain):
        for word in _NOT_LETTERS.split(part):
            pieces += [word, word.rstrip("0123456789")]
    pieces += [cyrillic_spelling(p) for p in list(pieces) if _LATIN.search(p)]
    words = [p for p in dict.fromkeys(pieces) if len(p) >= 3]
    return [*words, "huquq", "хукук"]


_judging = threading.Lock()


def _zxcvbn(text: str, words: list[str]) -> dict:
    """zxcvbn's verdict on ``text`` with the account's ``words``, and ``padded``: whether the
    text is one or two common words merely padded with digits and symbols (``Пароль2024!!``,
    ``Москва2026Москва``) — crackers try words with years and "!" added long before zxcvbn's
    estimate of such digits as random."""
    # Imported here: zxcvbn's word lists are 22 MB that a web worker needs only when a
    # password is set.
    from zxcvbn import matching, zxcvbn

    with _judging:
        if "russian" not in matching.RANKED_DICTIONARIES:
            matching.RANKED_DICTIONARIES["russian"] = russian_dictionary()
        verdict = zxcvbn(text, user_inputs=words)
        runs = {run.lower() for run in _LETTER_RUNS.findall(text)}
        dictionaries = matching.RANKED_DICTIONARIES.values()
        verdict["padded"] = 0 < len(runs) <= 2 and all(
            any(run in ranked for ranked in dictionaries) for run in runs
        )
        return verdict


def _readings(password: str) -> list[tuple[str, bool]]:
    """The password, and the keys it was typed on read in the other layout."""
    text = password[:JUDGED_LENGTH]
    readings = [(text, False)]
    if _CYRILLIC.search(text):
        readings.append((text.translate(TO_LATIN_KEYS), True))
    if _LATIN.search(text):
        readings.append((text.translate(TO_RUSSIAN_KEYS), True))
    return readings


def _built_from_email(text: str, words: list[str]) -> bool:
    """Whether the password is the email's pieces (any case, any separators, reversed) and a
    remainder too easy to guess on its own (``pwtest1@pt.testpwtest1``, ``Anna.Karimova2024``)."""
    rest = _NOT_LETTERS.sub("", text.lower())
    pieces = {_NOT_LETTERS.sub("", w) for w in words}
    pieces = sorted(pieces | {p[::-1] for p in pieces}, key=len, reverse=True)
    found = False
    for piece in (p for p in pieces if len(p) >= 3):
        if piece in rest:
            rest, found = rest.replace(piece, ""), True
    return found and (not rest or _zxcvbn(rest, words)["score"] < MIN_STRENGTH)


def _weakness(text: str, words: list[str], email: str) -> str | None:
    """Why this reading of a password is easy to guess, or None."""
    verdict = _zxcvbn(text, words)
    weak = verdict["score"] < MIN_STRENGTH
    found = {m.get("dictionary_name") for m in verdict["sequence"] if m["pattern"] == "dictionary"}
    more = _(MORE_WORDS)
    if email and ((weak and "user_inputs" in found) or _built_from_email(text, words)):
        reason = _("Do not build a password from your email address.")
        return f"{reason} {more}"
    if not weak:
        if verdict["padded"]:
            reason = _("Common words with digits or symbols added are easy to guess.")
            return f"{reason} {more}"
        return None
    if "russian" in found:
        reason = _(
            "Common Russian words, names and places are easy to guess, in any alphabet and "
            "either keyboard layout."
        )
    else:
        reason = _zxcvbn_text(verdict["feedback"].get("warning"))
    reason = reason or _("This password is easy to guess.")
    return " ".join([reason, *(_zxcvbn_text(text) for text in _suggestions(verdict))])


def _suggestions(verdict: dict) -> list[str]:
    """zxcvbn's suggestions. It tells capitals apart by Latin letters only, so a capitalised
    Cyrillic word (``Спартак``) reads to it as all-uppercase: said as it is instead."""
    suggestions = verdict["feedback"].get("suggestions") or [MORE_WORDS]
    words = [m["token"] for m in verdict["sequence"] if m["pattern"] == "dictionary"]
    if ALL_UPPERCASE in suggestions and not any(word.isupper() for word in words):
        return [CAPITALISED if s == ALL_UPPERCASE else s for s in suggestions]
    return suggestions


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password may not be used, or None. Every reading of it — as typed, and as
    typed in the other keyboard layout — must be hard to guess: for zxcvbn, without one or two
    common words merely padded with digits and symbols, and without being built from the
    account's email."""
    if len(password) < PASSWORD_MIN:
        return ngettext(
            "Use at least %(num)d character.", "Use at least %(num)d characters.", PASSWORD_MIN
        )
    if len(password) > PASSWORD_MAX:
        return ngettext(
            "Use at most %(num)d character.", "Use at most %(num)d characters.", PASSWORD_MAX
        )
    words = email_words(email) if email else ["huquq", "хукук"]
    for text, mapped in _readings(password):
        if reason := _weakness(text, words, email):
            if mapped:
                prefix = _("Typed in the other keyboard layout, this password is easy to guess.")
                return f"{prefix} {reason}"
            return reason
    return None


def _zxcvbn_text(text: str | None) -> str:
    return (_(text) if text in ZXCVBN_SENTENCES else text) if text else ""
