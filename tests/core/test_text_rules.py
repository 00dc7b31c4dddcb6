"""Tests for app.core.text_rules (section text validation)."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest

from app.core.errors import InvalidInput
from app.core.text_rules import (
    MAX_SECTION_CHARS,
    IdentityNumberHit,
    find_identity_numbers,
    luhn_ok,
    validate_section_text,
)

# ---------------------------------------------------------------------------
# Independent Luhn implementation (Skatteverket style: weights 2,1,2,1,...
# from the left over the 9 digits YYMMDDNNN, add the digits of the products).
# ---------------------------------------------------------------------------


def check_digit(nine: str) -> str:
    assert len(nine) == 9 and nine.isdigit()
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += sum(int(d) for d in str(product))
    return str((10 - total % 10) % 10)


def make_number(yymmdd: str, serial: str = "123") -> str:
    """Valid 10 digits YYMMDDNNNC."""
    return yymmdd + serial + check_digit(yymmdd + serial)


def wrong_check(ten: str) -> str:
    """Same number with a wrong check digit."""
    return ten[:9] + str((int(ten[9]) + 1) % 10)


def test_independent_luhn_matches_known_example():
    # The classic textbook example 811218-9876 (check digit 6).
    assert check_digit("811218987") == "6"


PNR = make_number("811218", "987")  # 8112189876
PNR_2 = make_number("900101", "238")
SAMORDNING = make_number("701063", "214")  # day 63 -> 3 Oct 1970
LEAP = make_number("000229", "456")  # 29 Feb 2000 (2000 is a leap year)
LEAP_12 = make_number("040229", "111")

# ---------------------------------------------------------------------------
# luhn_ok
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [PNR, PNR_2, SAMORDNING, LEAP, "79927398713", "0"])
def test_luhn_ok_accepts_valid(digits):
    assert luhn_ok(digits)


@pytest.mark.parametrize("digits", [wrong_check(PNR), wrong_check(SAMORDNING), "79927398710", "",
                                    "12a4", "８１"])
def test_luhn_ok_rejects_invalid(digits):
    assert not luhn_ok(digits)


def test_luhn_ok_agrees_with_independent_implementation():
    for nine in ("000000000", "123456789", "991231999", "450505505", "700163001"):
        good = nine + check_digit(nine)
        assert luhn_ok(good)
        for c in "0123456789":
            if c != good[-1]:
                assert not luhn_ok(nine + c)


# ---------------------------------------------------------------------------
# Identity numbers: refused
# ---------------------------------------------------------------------------


def fmt(ten: str, form: str) -> str:
    yymmdd, rest = ten[:6], ten[6:]
    century = "20" if ten[:2] in ("00", "04") else "19"
    return {
        "hyphen": f"{yymmdd}-{rest}",
        "plus": f"{yymmdd}+{rest}",
        "space": f"{yymmdd} {rest}",
        "plain": f"{yymmdd}{rest}",
        "12-hyphen": f"{century}{yymmdd}-{rest}",
        "12-plain": f"{century}{yymmdd}{rest}",
        "12-space": f"{century}{yymmdd} {rest}",
        "en-dash": f"{yymmdd}\u2013{rest}",
    }[form]


FORMS = ["hyphen", "plus", "space", "plain", "12-hyphen", "12-plain", "12-space", "en-dash"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("ten", "kind", "label"),
    [
        (PNR, "personnummer", "personal identity number"),
        (PNR_2, "personnummer", "personal identity number"),
        (LEAP, "personnummer", "personal identity number"),
        (LEAP_12, "personnummer", "personal identity number"),
        (SAMORDNING, "samordningsnummer", "coordination number"),
    ],
)
def test_identity_number_refused_without_echoing_it(ten, kind, label, form):
    number = fmt(ten, form)
    text = f"Första raden.\n\n- Anmälan gäller {number}, se bilaga.\n• Övrigt"
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(text)
    err = exc.value
    col = len("- Anmälan gäller ") + 1
    assert f"(line 3, column {col})" in err.message
    assert label in err.message
    assert "must not be stored" in err.message
    assert err.details["line"] == 3
    assert err.details["column"] == col
    assert err.details["kind"] == kind
    assert err.details["position"] == text.index(number) + 1
    assert err.details["field"] == "text"
    # The number, or any part of it, must never leak.
    everything = err.message + repr(err.details) + str(err)
    for fragment in (number, ten, ten[:6], ten[6:]):
        assert fragment not in everything


def test_exact_message_personnummer():
    text = "Rad ett\nRad två\nHändelse: " + fmt(PNR, "hyphen")
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(text, field="summary")
    assert exc.value.message == (
        "The text contains what looks like a personal identity number (line 3, column 11). "
        "Remove it: such numbers must not be stored."
    )
    assert exc.value.details["field"] == "summary"
    assert exc.value.details["count"] == 1


def test_exact_message_coordination_number():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(fmt(SAMORDNING, "hyphen"))
    assert exc.value.message == (
        "The text contains what looks like a coordination number (line 1, column 1). "
        "Remove it: such numbers must not be stored."
    )


def test_several_numbers_counted_first_reported():
    text = f"a {fmt(PNR, 'hyphen')}\nb {fmt(SAMORDNING, 'plain')}"
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(text)
    assert exc.value.details["count"] == 2
    assert exc.value.details["line"] == 1
    assert exc.value.details["column"] == 3
    assert "1 more" in exc.value.message


def test_number_adjacent_to_letters_and_punctuation_is_found():
    for text in (f"pnr:{PNR}", f"({fmt(PNR, 'hyphen')})", f"nr{fmt(PNR, 'hyphen')}."):
        with pytest.raises(InvalidInput):
            validate_section_text(text)


def test_number_with_crlf_reports_position_in_normalised_text():
    text = f"rad1\r\nrad2\r\n  {fmt(PNR, 'hyphen')}"
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(text)
    assert (exc.value.details["line"], exc.value.details["column"]) == (3, 3)


def test_number_hidden_by_no_break_space_separator_is_found():
    with pytest.raises(InvalidInput):
        validate_section_text(f"{PNR[:6]}\u00a0{PNR[6:]}")


def test_number_in_fullwidth_digits_is_found():
    full = "".join(chr(0xFF10 + int(d)) for d in fmt(PNR, "plain"))
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(f"x {full}")
    assert exc.value.details["column"] == 3


# ---------------------------------------------------------------------------
# Identity-number look-alikes: accepted
# ---------------------------------------------------------------------------


def _bad_date_with_valid_luhn(yymmdd: str) -> str:
    return make_number(yymmdd, "123")


@pytest.mark.parametrize(
    "text",
    [
        # Luhn wrong
        fmt(wrong_check(PNR), "hyphen"),
        fmt(wrong_check(PNR), "plain"),
        fmt(wrong_check(PNR), "12-hyphen"),
        fmt(wrong_check(SAMORDNING), "hyphen"),
        # Invalid dates even though Luhn is right
        fmt(_bad_date_with_valid_luhn("991332"), "hyphen"),  # month 13
        fmt(_bad_date_with_valid_luhn("990001"), "hyphen"),  # month 00
        fmt(_bad_date_with_valid_luhn("990100"), "hyphen"),  # day 00
        fmt(_bad_date_with_valid_luhn("990431"), "hyphen"),  # 31 April
        fmt(_bad_date_with_valid_luhn("990230"), "hyphen"),  # 30 Feb
        fmt(_bad_date_with_valid_luhn("990492"), "hyphen"),  # coordination day 92
        fmt(_bad_date_with_valid_luhn("990491"), "hyphen"),  # coordination 31 April
        fmt(_bad_date_with_valid_luhn("990150"), "hyphen"),  # day 50: neither
        fmt(_bad_date_with_valid_luhn("990160"), "hyphen"),  # day 60: neither
        # Feb 29 in non-leap years
        fmt(_bad_date_with_valid_luhn("990229"), "hyphen"),
        fmt(_bad_date_with_valid_luhn("010229"), "plain"),
        "19" + fmt(_bad_date_with_valid_luhn("000229"), "hyphen"),  # 1900 not leap
        fmt(_bad_date_with_valid_luhn("990289"), "hyphen"),  # coordination 29 Feb 1999
        # 12-digit form with an implausible century
        "17" + fmt(PNR, "hyphen"),
        # Embedded in longer digit runs
        "1" + fmt(PNR, "plain"),
        fmt(PNR, "plain") + "1",
        "1" + fmt(PNR, "hyphen"),
        fmt(PNR, "hyphen") + "7",
        "9" + fmt(PNR, "12-plain"),
        fmt(PNR, "12-plain") + "0",
        "00" + fmt(PNR, "plain") + "00",
        # Phone numbers, dates, reference numbers
        "Ring 070-123 45 67 eller 08-508 000 00.",
        "Möte 2024-03-15 kl. 14.00, ärende 2024/1234.",
        "Diarienummer KS 2023-456789",
        "Tel +46 70 123 45 67",
    ],
)
def test_look_alikes_pass(text):
    assert find_identity_numbers(text) == []
    assert validate_section_text(text) == text


def test_leap_day_2000_is_a_valid_date_for_10_digit_forms():
    # Same digits as the "1900" case above, but without a century: 2000 is a leap year.
    number = fmt(_bad_date_with_valid_luhn("000229"), "hyphen")
    assert len(find_identity_numbers(number)) == 1
    assert len(find_identity_numbers("20" + number)) == 1


# ---------------------------------------------------------------------------
# find_identity_numbers
# ---------------------------------------------------------------------------


def test_find_identity_numbers_hits_carry_positions_but_no_digits():
    a = fmt(PNR, "hyphen")
    b = fmt(SAMORDNING, "12-plain")
    text = f"Rad ett {a}\nOch {b} här"
    hits = find_identity_numbers(text)
    assert [h.kind for h in hits] == ["personnummer", "samordningsnummer"]
    assert (hits[0].line, hits[0].column) == (1, 9)
    assert (hits[1].line, hits[1].column) == (2, 5)
    assert text[hits[0].start : hits[0].end] == a
    assert text[hits[1].start : hits[1].end] == b
    for hit in hits:
        assert isinstance(hit, IdentityNumberHit)
        for f in dataclasses.fields(hit):
            value = getattr(hit, f.name)
            assert not (isinstance(value, str) and any(c.isdigit() for c in value))
        assert PNR not in repr(hit) and SAMORDNING not in repr(hit)


def test_find_identity_numbers_empty_text():
    assert find_identity_numbers("") == []


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------


def test_valid_utf8_bytes_are_decoded():
    assert validate_section_text("Hälsning från Örebro".encode()) == "Hälsning från Örebro"


@pytest.mark.parametrize(
    ("raw", "byte_no"),
    [
        (b"abc\xff", 4),
        (b"\xc3", 1),  # truncated sequence
        ("Hej på dig ".encode() + b"\xe5", 13),  # Latin-1 'å'
        (b"\xed\xa0\x80", 1),  # encoded surrogate
        (b"\xc0\xaf", 1),  # overlong
    ],
)
def test_invalid_utf8_bytes_refused(raw, byte_no):
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(raw)
    assert exc.value.message == f"The text is not valid UTF-8 (byte {byte_no})."
    assert exc.value.details["position"] == byte_no


def test_invalid_utf8_reports_line_and_column():
    raw = "rad ett\r\nrad två\nså\xa0".encode() + b"\x80"
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(raw)
    assert exc.value.message == f"The text is not valid UTF-8 (byte {len(raw)})."
    assert (exc.value.details["line"], exc.value.details["column"]) == (3, 4)


def test_lone_surrogate_refused():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text("ab\nc\ud800d")
    assert "not valid UTF-8" in exc.value.message
    assert exc.value.details["position"] == 5
    assert (exc.value.details["line"], exc.value.details["column"]) == (2, 2)


@pytest.mark.parametrize("value", ["trasig \ufffd text", "\ufffd".encode()])
def test_replacement_character_refused(value):
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(value)
    assert "U+FFFD" in exc.value.message
    assert exc.value.details["code_point"] == "U+FFFD"


def test_non_text_type_is_a_programming_error():
    with pytest.raises(TypeError):
        validate_section_text(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Control and format characters
# ---------------------------------------------------------------------------

CONTROL_CHARS = [chr(c) for c in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0))
                 if chr(c) not in "\n\t\r"]


def test_control_char_list_covers_all_cc_except_allowed():
    all_cc = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"}
    assert all_cc - set(CONTROL_CHARS) == {"\n", "\t", "\r"}


@pytest.mark.parametrize("ch", CONTROL_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_refused(ch):
    text = f"Rad ett\nab{ch}cd"
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(text)
    code = f"U+{ord(ch):04X}"
    assert code in exc.value.message
    assert "line 2, column 3" in exc.value.message
    assert exc.value.details == {
        "field": "text",
        "code_point": code,
        "position": 11,
        "line": 2,
        "column": 3,
    }


@pytest.mark.parametrize("ch", ["\x0b", "\x0c", "\x1c", "\x85"], ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_at_line_end_are_refused_not_stripped(ch):
    with pytest.raises(InvalidInput):
        validate_section_text(f"rad{ch}\nnästa")


def test_nul_refused():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text("abc\x00def")
    assert exc.value.message == ("The text contains the NUL character (U+0000) at line 1, "
                                 "column 4. Remove it.")


def test_nul_in_bytes_refused():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(b"abc\x00")
    assert exc.value.details["code_point"] == "U+0000"


HIDING_FORMAT_CHARS = [
    *(chr(c) for c in range(0x200B, 0x2010)),
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\ufeff",
    "\u2060",
    "\u061c",
    "\U000e0041",  # tag LATIN CAPITAL LETTER A
]


@pytest.mark.parametrize("ch", HIDING_FORMAT_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_hiding_format_characters_refused(ch):
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(f"x\n\nhej{ch}då")
    code = f"U+{ord(ch):04X}"
    assert exc.value.message == (
        f"The text contains an invisible formatting character ({code}) at line 3, column 4. "
        "Remove it."
    )
    assert exc.value.details["code_point"] == code


def test_bom_at_start_of_bytes_refused():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text(b"\xef\xbb\xbfhej")
    assert exc.value.details["code_point"] == "U+FEFF"


def test_soft_hyphen_and_tab_allowed():
    text = "kommun\u00adfullmäktige\tkolumn"
    assert validate_section_text(text) == text


# ---------------------------------------------------------------------------
# Length
# ---------------------------------------------------------------------------


def test_max_is_20000():
    assert MAX_SECTION_CHARS == 20_000


def test_length_at_limit_ok():
    text = "å" * MAX_SECTION_CHARS
    assert validate_section_text(text) == text


def test_length_over_limit_refused():
    with pytest.raises(InvalidInput) as exc:
        validate_section_text("ä" * (MAX_SECTION_CHARS + 1))
    assert exc.value.message == "The text is 20,001 characters; the limit is 20,000."
    assert exc.value.details == {"field": "text", "length": 20_001, "limit": 20_000}


def test_length_counted_after_normalisation():
    # Decomposed a + ring (2 code points) becomes one "å"; CRLF becomes LF;
    # trailing whitespace and blank lines disappear.
    body = "a\u030a" * (MAX_SECTION_CHARS - 2) + "\r\nx   \r\n\r\n  \r\n"
    result = validate_section_text(body)
    assert len(result) == MAX_SECTION_CHARS


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb\r\nc", "a\nb\nc"),
        ("a\rb\rc", "a\nb\nc"),
        ("a\r\n\r\nb", "a\n\nb"),
        ("a\u00a0b", "a b"),
        ("10\u202f000 kr", "10 000 kr"),
        ("a\u030angstro\u0308m", "ångström"),  # NFD -> NFC
        ("Ö\u0308", unicodedata.normalize("NFC", "Ö\u0308")),
        ("rad  \nrad\t\nrad\u00a0\nrad\u3000", "rad\nrad\nrad\nrad"),
        ("slut\n\n\n", "slut"),
        ("slut\r\n  \r\n\t\r\n", "slut"),
        ("\n\n  indrag kvar", "\n\n  indrag kvar"),  # leading content untouched
        ("a\n\n\nb", "a\n\n\nb"),  # inner blank lines kept
        ("  \n \t ", ""),
        ("", ""),
    ],
)
def test_normalisation(raw, expected):
    assert validate_section_text(raw) == expected
    assert validate_section_text(raw.encode()) == expected


def test_normalisation_is_idempotent():
    raw = "Rubrik\u00a0 \r\n- a\u0308pple\t\r\n\r\n"
    once = validate_section_text(raw)
    assert validate_section_text(once) == once


SWEDISH = (
    "Lägesbild för Södermalm, vecka 12\n"
    "\n"
    "Sammanfattning: Ökad oro kring skolgården efter kl. 18.\n"
    "- Skadegörelse vid Åsögatan (3 anmälningar).\n"
    "- Nattvandrare på plats fredag–lördag.\n"
    "• Samverkan med polisen: möte 2024-03-15.\n"
    "• Åtgärd: bättre belysning i gångtunneln, kostnad ca 45 000 kr.\n"
    "\tIndraget stycke med citat: ”Det är lugnare nu.”\n"
    "Kontakt: 08-508 000 00. Emoji får finnas 🙂 och «citattecken» också."
)


def test_plain_swedish_text_with_bullets_passes_unchanged():
    assert unicodedata.is_normalized("NFC", SWEDISH)
    assert validate_section_text(SWEDISH) == SWEDISH
    assert validate_section_text(SWEDISH.encode("utf-8")) == SWEDISH
