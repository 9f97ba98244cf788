"""Names across scripts and transliterations, phones and document numbers, as search sees them."""

import pytest

from app.clients.matching import document_token, name_tokens, phone_tokens, same_name_key, skeleton


@pytest.mark.parametrize(
    "spellings",
    [
        ("Худойбердиев", "Khudoyberdiev", "Xudoyberdiyev", "Hudoyberdiev"),
        ("Абдуллаев", "Abdullaev", "Abdulaev", "Abdullayev"),
        ("Шералиев", "Sheraliev", "Sheraliyev"),
        ("Рахмонов", "Rakhmonov", "Rahmonov", "Raxmonov"),
        ("Жасур", "Jasur", "Zhasur"),
        ("Қодиров", "Qodirov", "Kodirov"),
        ("Ғафуров", "G'afurov", "Gʻafurov", "Gafurov"),
        ("Ҷӯраев", "Juraev", "Djuraev", "Dzhuraev"),
    ],
)
def test_spellings_of_one_name_share_a_skeleton(spellings):
    assert len({skeleton(s) for s in spellings}) == 1, {s: skeleton(s) for s in spellings}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Каримов Шерзод", "Karimov Sherzod"),
        ("Sherzod Karimov", "КАРИМОВ  шерзод"),
    ],
)
def test_the_same_name_in_any_order_and_case(a, b):
    assert same_name_key(a) == same_name_key(b)


def test_different_names_stay_different():
    assert same_name_key("Каримов Шерзод") != same_name_key("Каримов Шухрат")
    assert skeleton("Рахимов") != skeleton("Рахмонов")


def test_tokens():
    assert name_tokens("Абдуллаев-Каримов Ш.") == ["abdulaev", "karimov", "sh"]
    assert phone_tokens("+998 (90) 123-45-67") == ["998901234567", "901234567"]
    assert phone_tokens("12-34") == []
    assert document_token(" ab 123-45 67 ") == "AB1234567"
