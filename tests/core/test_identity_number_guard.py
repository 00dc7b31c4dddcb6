"""The one identity-number guard (app.core.text_rules.refuse_identity_numbers): every format
people write a number in, in every position of a text, found as the reader sees it; ordinary
numbers left alone; refusals that give the position and never a digit of the number."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput
from app.core.text_rules import (
    find_identity_numbers,
    redact_identity_numbers,
    refuse_identity_numbers,
    validate_section_text,
)

TODAY = date(2026, 6, 15)


def check_digit(nine: str) -> str:
    """Skatteverket's Luhn, written out independently of the code under test."""
    total = 0
    for index, ch in enumerate(nine):
        product = int(ch) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def number(born: date, serial: str, coordination: bool = False) -> tuple[str, str]:
    """(century, ten digits YYMMDDNNNC) of a valid number."""
    day = born.day + (60 if coordination else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
    return f"{born.year // 100}", nine + check_digit(nine)


# How people write one: (the date's digits in groups, the separator before the last four).
def written(century: str, ten: str, *, twelve: bool, date_seps: tuple[str, str] | None,
            last_sep: str) -> str:
    yy, mm, dd, last = ten[:2], ten[2:4], ten[4:6], ten[6:]
    year = century + yy if twelve else yy
    if date_seps is None:
        return f"{year}{mm}{dd}{last_sep}{last}"
    return f"{year}{date_seps[0]}{mm}{date_seps[1]}{dd}{last_sep}{last}"


SEPARATORS = st.sampled_from(["", "-", "+", " ", "  ", "\t", "- ", " - ", "--", "-\n", "\n",
                              "\u2013", "\u00a0", " -\n   ", "\u00ad"])
DATE_SEPARATORS = st.sampled_from(["-", " ", "\u2011", "- "])
BIRTH_DATES = st.dates(min_value=date(1890, 1, 1), max_value=TODAY)
SERIALS = st.integers(0, 999).map(lambda n: f"{n:03d}")
# Text around the number, never ending or starting in a digit next to it.
AROUND = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Nd", "Cf")),
                 max_size=40)
NOT_DIGIT_EDGE = st.sampled_from(["", " ", "\n", "(", "pnr:", "Personen ", ", ", "\n- "])


@st.composite
def written_numbers(draw):
    born = draw(BIRTH_DATES)
    coordination = draw(st.booleans())
    century, ten = number(born, draw(SERIALS), coordination)
    twelve = draw(st.booleans())
    date_seps = draw(st.none() | st.tuples(DATE_SEPARATORS, DATE_SEPARATORS))
    text = written(century, ten, twelve=twelve, date_seps=date_seps,
                   last_sep=draw(SEPARATORS))
    return text, ten, "samordningsnummer" if coordination else "personnummer"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_numbers(), AROUND, NOT_DIGIT_EDGE, NOT_DIGIT_EDGE, AROUND)
def test_a_valid_number_is_found_in_every_format_and_position(found, before, left, right,
                                                               after):
    written_number, ten, kind = found
    before = before.rstrip("0123456789")
    text = f"{before}{left}{written_number}{right}{after}"
    hits = [h for h in find_identity_numbers(text, today=TODAY)
            if h.start == len(before) + len(left)]
    assert hits, text
    assert hits[0].kind == kind
    assert text[hits[0].start:hits[0].end] == written_number.strip()


@settings(max_examples=200, deadline=None)
@given(written_numbers(), AROUND, NOT_DIGIT_EDGE)
def test_the_refusal_names_the_position_and_never_a_digit_of_it(found, before, left):
    written_number, ten, _kind = found
    before = before.rstrip("0123456789")
    text = f"{before}{left}{written_number} slut"
    offset = len(before) + len(left)
    with pytest.raises(InvalidInput) as refused:
        refuse_identity_numbers(text, field="title", what="topic title")
    error = refused.value
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert (error.details["line"], error.details["column"]) == (line, column)
    assert error.details["field"] == "title"
    said = error.message + repr(error.details) + repr(error.params)
    assert ten[2:6] not in said and ten[6:] not in said
    assert "must not be stored" in said


@settings(max_examples=200, deadline=None)
@given(written_numbers(), st.sampled_from(["\n", "\n\n", " \n", "-\n", "\n  "]),
       st.sampled_from([2, 4, 6]), st.booleans())
def test_a_line_wrap_between_the_groups_is_still_the_number(found, wrap, cut, twelve):
    """A hard wrap: the reader (and the importer's line join) puts the number together."""
    _written, ten, _kind = found
    # The century that keeps the date real: 000229 is 2000-02-29, and 1900 was no leap year.
    century = "20" if ten.startswith("00") else "19"
    digits = (century + ten) if twelve else ten
    cut += 2 if twelve else 0
    text = f"Gäller {digits[:cut]}{wrap}{digits[cut:]}."
    assert len(find_identity_numbers(text, today=TODAY)) == 1


def test_the_lines_of_a_statistics_table_are_not_a_number():
    """A PDF's or a DOCX's table cells come one a line: no number across lines but at the
    places a number's groups are split."""
    nine = "811218987"
    ten = nine + check_digit(nine)
    column = "\n".join([ten[:3], ten[3:5], ten[5:8], ten[8:]])  # 3 + 2 + 3 + 2 digits
    assert find_identity_numbers(f"Antal\n{column}\nSumma") == []
    assert len(find_identity_numbers("\n".join([ten[:6], ten[6:]]))) == 1


@pytest.mark.parametrize("text", [
    "19121212-\n1212",          # the hard wrap of issue 16
    "19121212- 1212",           # as the importer joins it
    "1912 12 12-1212",
    "1912-12-12-1212",
    "191212121212",
    "121212-1212",
    "121212+1212",
    "12 12 12 - 1212",
    "Lägesbild december 2022 Farsta 19121212-1212",
    "1912\u00ad1212-1212",      # a soft hyphen the reader does not see
    "1912\u200b1212-1212",      # nor a zero-width space
    "１９１２１２１２－１２１２",  # full-width digits and dash
])
def test_the_numbers_that_got_through_are_found(text):
    assert len(find_identity_numbers(text)) == 1
    with pytest.raises(InvalidInput):
        refuse_identity_numbers(text)


def _valid_luhn(nine: str) -> str:
    return nine + check_digit(nine)


@pytest.mark.parametrize("text", [
    # Phone numbers as people write them.
    "Ring 070-123 45 67 eller 08-508 000 00.",
    "Tel +46 70 123 45 67, växel 08-508 080 00",
    "Mobil 0701-23 45 67",
    # Case and reference numbers.
    "Ärende 5000-K123456-26 hos polisen.",
    "Dnr KS 2023/1234 och SDN 2023-00456",
    "Diarienummer 2023-456789",
    # Organisation numbers: their month digits are 20 or more (here with a right check digit).
    f"Bolaget {_valid_luhn('556677889')[:6]}-{_valid_luhn('556677889')[6:]}",
    # Statistics, thousands and amounts.
    "Anmälda brott 2022: 1 234 567; 2023: 1 245 890.",
    "Kostnaden var 12 500 000 kr (2 345 678 kr 2021).",
    "Andel 12,5 % av 3 456 ärenden, 19 12 12 fall.",
    # Dates with times, ranges, years.
    "Möte 2024-03-15 kl. 14.00, 2024-03-16 14.30–16.00.",
    "Åren 2019–2023 och 2020-2024.",
    # A right check digit but not a date, or a date in the future.
    _valid_luhn("991332123"),
    _valid_luhn("990230123"),
    "2099-01-01-" + _valid_luhn("990101123")[6:],
    # Embedded in a longer run of digits.
    "1" + _valid_luhn("811218987"),
    _valid_luhn("811218987") + "0",
])
def test_ordinary_numbers_pass(text):
    assert find_identity_numbers(text) == [], text
    refuse_identity_numbers(text)
    assert validate_section_text(text) == text


def test_a_future_birth_date_is_not_a_number():
    tomorrow = TODAY + timedelta(days=1)
    century, ten = number(tomorrow, "123")
    assert find_identity_numbers(century + ten, today=TODAY) == []
    century, ten = number(TODAY, "123")
    assert len(find_identity_numbers(century + ten, today=TODAY)) == 1


def test_a_coordination_number_is_day_plus_sixty():
    _century, ten = number(date(1970, 10, 3), "214", coordination=True)
    assert ten[4:6] == "63"
    [hit] = find_identity_numbers(f"nr {ten[:6]}-{ten[6:]}")
    assert hit.kind == "samordningsnummer"
    # Day 31 + 60 = 91 exists only in months with 31 days.
    nine = f"7004{91}123"
    assert find_identity_numbers(_valid_luhn(nine)) == []


def test_a_separator_of_more_than_three_characters_breaks_the_number():
    _century, ten = number(date(1981, 12, 18), "987")
    assert find_identity_numbers(f"{ten[:6]} -- {ten[6:]}") == []
    assert len(find_identity_numbers(f"{ten[:6]} - {ten[6:]}")) == 1


def test_a_one_line_field_is_refused_by_its_name_and_character():
    _century, ten = number(date(1981, 12, 18), "987")
    with pytest.raises(InvalidInput) as refused:
        refuse_identity_numbers(f"Trygghet {ten}", field="title", what="topic title")
    assert refused.value.message == (
        "The topic title contains what looks like a personal identity number (character 10). "
        "Remove it: such numbers must not be stored.")


def test_redacting_keeps_everything_but_the_number():
    _century, ten = number(date(1981, 12, 18), "987")
    assert redact_identity_numbers(f"GET /x/{ten[:6]}-{ten[6:]}/y") == \
        "GET /x/[identity number removed]/y"
    assert redact_identity_numbers("GET /contributions/12/print") == \
        "GET /contributions/12/print"


def test_every_leap_day_and_month_end_is_a_date():
    for year in (1900, 1904, 2000, 2024):
        last = calendar.monthrange(year, 2)[1]
        century, ten = number(date(year, 2, last), "456")
        assert len(find_identity_numbers(century + ten)) == 1


def test_digits_inside_a_hex_digest_are_not_a_number():
    """An exported document's footer and properties carry its SHA-256 fingerprint."""
    _century, ten = number(date(1981, 12, 18), "987")
    digest = f"3f2a{ten}bc" + "e" * 50
    assert find_identity_numbers(f"Fingeravtryck (SHA-256): {digest}") == []
    assert find_identity_numbers(digest.upper()) == []
    # Glued to a word or a short code, it is still a number.
    assert len(find_identity_numbers(f"nr{ten}")) == 1
    assert len(find_identity_numbers(f"ab{ten}cd")) == 1
