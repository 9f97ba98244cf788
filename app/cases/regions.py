"""The regions whose own non-working days an admin may enter, and how a case's free-text region
is matched to one. Pure.

A case's region is typed by hand ("Казань", "Респ. Татарстан", "Tatarstan"). It belongs to a
region below when, folded (lower case, ё as е), it contains one of that region's names: its
own name, its other common name, or its capital (a case heard in Kazan is heard by Tatarstan's
courts). The first region that matches wins; a region that matches none keeps to the federal
calendar. Codes are ISO 3166-2:RU.
"""

from flask_babel import lazy_gettext as _l

# code: (label, names a case's region may contain, folded)
REGIONS = {
    "RU-TA": (_l("Tatarstan"), ("татарстан", "tatarstan", "казань", "kazan")),
    "RU-BA": (_l("Bashkortostan"), ("башкортостан", "башкирия", "bashkortostan", "уфа", "ufa")),
    "RU-CE": (_l("Chechnya"), ("чечн", "chechn", "грозн", "grozn")),
    "RU-DA": (_l("Dagestan"), ("дагестан", "dagestan", "махачкал", "makhachkal")),
    "RU-IN": (_l("Ingushetia"), ("ингушет", "ingushet", "магас", "magas")),
    "RU-KB": (_l("Kabardino-Balkaria"), ("кабардин", "kabardin", "нальчик", "nalchik")),
    "RU-KC": (_l("Karachay-Cherkessia"), ("карачаев", "karachay", "черкесск", "cherkessk")),
    "RU-AD": (_l("Adygea"), ("адыге", "adyge", "майкоп", "maykop")),
    "RU-BU": (_l("Buryatia"), ("бурят", "buryat", "улан-удэ", "ulan-ude")),
    "RU-TY": (_l("Tuva"), ("тыва", "тува", "tuva", "кызыл", "kyzyl")),
    "RU-KL": (_l("Kalmykia"), ("калмык", "kalmyk", "элист", "elist")),
    "RU-SA": (_l("Sakha (Yakutia)"), ("саха", "якути", "sakha", "yakuti", "якутск", "yakutsk")),
}


def fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def region_code(text: str | None) -> str | None:
    """The code of the region a case's typed region names, or None."""
    if not text:
        return None
    folded = fold(text)
    for code, (_label, names) in REGIONS.items():
        if any(name in folded for name in names):
            return code
    return None


def region_label(code: str | None) -> str:
    return str(REGIONS[code][0]) if code in REGIONS else ""
