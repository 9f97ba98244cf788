"""Other figures the articles give, shown beside the dashboard's numbers, each with its source.
These are published facts, not the group's data, so they live here rather than in the database."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

INSIDER = (
    "The Insider",
    "Speaking up for the voiceless: Russian activists struggle to defend the rights of "
    "migrants amid wartime conditions",
    2025,
)
CARAVANSERAI = (
    "Caravanserai",
    "Uptick in Russian authorities' harassment of migrants politically motivated",
    2023,
)


@dataclass(frozen=True)
class Figure:
    value: str
    text: object  # a lazy translation
    source: tuple[str, str, int]
    quote: str


FIGURES = (
    Figure(
        "1,427 / 1,762",
        _l("families had their documents rejected before the children could sit the language test"),
        INSIDER,
        "Of the 1,762 people who applied to take the test, 1,427 had their documents rejected",
    ),
    Figure(
        "15 / 65",
        _l("children passed the language test in Yekaterinburg"),
        INSIDER,
        "in Yekaterinburg, fewer than a quarter passed — 15 children out of 65",
    ),
    Figure(
        "5 / 6",
        _l("children prepared by volunteers passed and were admitted to school"),
        INSIDER,
        "of the six children who took the intensive course, five passed and were admitted to "
        "Russian schools",
    ),
    Figure(
        "≈ 7,000",
        _l("migrants expelled in one week of Operation Nelegal-2023"),
        CARAVANSERAI,
        "Russian authorities launched the first phase of Operation Nelegal-2023 (Illegal "
        "Alien-2023) June 19-25, expelling some 7,000 migrants",
    ),
    Figure(
        "> 2,000",
        _l("criminal cases opened against foreign citizens in the same operation"),
        CARAVANSERAI,
        "They opened criminal cases against more than 2,000 foreign citizens",
    ),
)
