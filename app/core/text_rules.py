"""Validation and normalisation of free text before it is stored or audited.

Section texts of a situation report are plain Swedish text (bullet lines
allowed).  Everything that is stored, or written to the audit trail, must
first pass :func:`validate_section_text`, which

* decodes bytes as strict UTF-8 and refuses text that cannot be encoded as
  UTF-8 (lone surrogates) or that contains U+FFFD (already damaged by a lossy
  decode somewhere upstream);
* normalises line breaks (CRLF/CR -> LF), applies Unicode NFC, turns the
  no-break spaces U+00A0 and U+202F into plain spaces, strips trailing
  whitespace on every line and trailing blank lines at the end;
* refuses control characters (category Cc) other than LF and TAB, and
  invisible format characters that can hide or reorder text;
* refuses text longer than :data:`MAX_SECTION_CHARS` after normalisation;
* refuses Swedish personal identity numbers (personnummer) and coordination
  numbers (samordningsnummer).  The number itself is never echoed in the
  error message or details, so it cannot reach the database or the audit log.

All positions reported to users (``line``, ``column``, ``position``) are
1-based and count Unicode code points (``position`` counts bytes only for the
invalid-UTF-8 error on byte input).  Line and column refer to the text after
line-break normalisation.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from app.core.errors import InvalidInput
from app.core.messages import N_, Msg

__all__ = [
    "MAX_SECTION_CHARS",
    "IdentityNumberHit",
    "find_identity_numbers",
    "luhn_ok",
    "normalise_text",
    "validate_section_text",
]

MAX_SECTION_CHARS = 20_000

# Invisible format characters (category Cf) that can hide or reorder text.
# Zero-width space/joiners and directional marks, bidi embeddings/overrides,
# bidi isolates, the BOM / zero-width no-break space, the Arabic letter mark,
# the word joiner and invisible math operators, interlinear annotation
# controls and the tag characters (used to smuggle invisible ASCII).
# The soft hyphen U+00AD is deliberately allowed: it is common in text pasted
# from word processors and hides nothing.
_HIDING_FORMAT_RANGES: tuple[tuple[int, int], ...] = (
    (0x061C, 0x061C),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x2069),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0000, 0xE007F),
)

_NO_BREAK_SPACES = {0x00A0: " ", 0x202F: " "}

# Trailing "whitespace" stripped per line: space, tab and the other space
# separators (category Zs).  Control characters such as VT/FF are NOT
# stripped silently; they are refused like any other control character.
_TRAILING_WS_RE = re.compile(r"[ \t\u1680\u2000-\u200a\u205f\u3000]+$")

_REPLACEMENT_CHAR = "\ufffd"


def _is_hiding_format_char(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _HIDING_FORMAT_RANGES)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of the 0-based code-point ``offset`` in LF text."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------
# Luhn and identity numbers
# --------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """True if ``digits`` (ASCII digits only, last one the check digit) passes Luhn.

    For a Swedish identity number pass the 10-digit form YYMMDDNNNC.
    Anything that is not a non-empty string of ASCII digits returns False.
    """
    if not isinstance(digits, str) or not digits or not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class IdentityNumberHit:
    """Where an identity number was found.  Deliberately holds no digits.

    ``start``/``end`` are 0-based code-point offsets into the searched text
    (``text[start:end]`` is the number, for callers that need to redact it);
    ``line``/``column`` are 1-based.
    """

    kind: Literal["personnummer", "samordningsnummer"]
    start: int
    end: int
    line: int
    column: int

    @property
    def label(self) -> Msg:
        """Name of the kind, for messages (reads as English, shown translated)."""
        if self.kind == "samordningsnummer":
            return Msg(N_("coordination number"))
        return Msg(N_("personal identity number"))


# Separators: hyphen-minus, plus, space; Unicode hyphens/dashes and the minus
# sign are folded to "-" before matching (word processors replace "-").
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"

_IDNR_RE = re.compile(
    r"(?<![0-9])"
    r"(?P<century>[0-9]{2})?"
    r"(?P<date>[0-9]{6})"
    r"(?P<sep>[-+ ]?)"
    r"(?P<serial>[0-9]{3})(?P<check>[0-9])"
    r"(?![0-9])",
    re.ASCII,
)


def _fold_for_detection(text: str) -> str:
    """Same-length copy of ``text`` with all decimal digits as ASCII and dashes as "-".

    Offsets in the copy are offsets in the original, so hits map back exactly.
    """
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isdecimal() and not ch.isascii():
            out.append(chr(48 + unicodedata.decimal(ch)))
        elif ch in _DASHES:
            out.append("-")
        elif ch in "\u00a0\u202f":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _date_ok(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def _classify(century: str | None, date: str) -> str | None:
    """Return the kind if ``date`` (YYMMDD) is a valid (coordination) date, else None."""
    yy, month, day = int(date[:2]), int(date[2:4]), int(date[4:6])
    kind = "personnummer"
    if 61 <= day <= 91:
        kind = "samordningsnummer"
        day -= 60
    if century is not None:
        c = int(century)
        if c not in (18, 19, 20):
            return None
        years = (c * 100 + yy,)
    else:
        # The 10-digit form does not say the century; it only matters for
        # Feb 29 in year 00 (1900 is not a leap year, 2000 is).
        years = (1900 + yy, 2000 + yy)
    if any(_date_ok(y, month, day) for y in years):
        return kind
    return None


def find_identity_numbers(text: str) -> list[IdentityNumberHit]:
    """Find Swedish personal identity / coordination numbers in ``text``.

    Recognised forms (not embedded in a longer run of digits): YYMMDD-NNNC,
    YYMMDD+NNNC, YYMMDD NNNC, YYMMDDNNNC, YYYYMMDD-NNNC, YYYYMMDD NNNC,
    YYYYMMDDNNNC.  A candidate counts only if the date is valid (coordination
    numbers: day + 60) and the Luhn check digit over YYMMDDNNNC is right.
    Non-ASCII decimal digits and Unicode dashes are treated like their ASCII
    counterparts.  Line/column assume LF line breaks.
    """
    folded = _fold_for_detection(text)
    hits: list[IdentityNumberHit] = []
    for m in _IDNR_RE.finditer(folded):
        kind = _classify(m.group("century"), m.group("date"))
        if kind is None:
            continue
        if not luhn_ok(m.group("date") + m.group("serial") + m.group("check")):
            continue
        line, column = _line_col(text, m.start())
        hits.append(IdentityNumberHit(kind, m.start(), m.end(), line, column))  # type: ignore[arg-type]
    return hits


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _decode(value: str | bytes, field: str) -> str:
    """Decode bytes strictly / check a str is encodable; newlines normalised."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            # The prefix before the bad byte is valid UTF-8 by construction.
            prefix = _normalise_newlines(raw[: exc.start].decode("utf-8"))
            line, column = _line_col(prefix, len(prefix))
            byte_no = exc.start + 1
            raise InvalidInput(
                Msg(N_("The text is not valid UTF-8 (byte {position})."), position=byte_no),
                field=field,
                position=byte_no,
                line=line,
                column=column,
            ) from None
        return _normalise_newlines(text)
    if not isinstance(value, str):
        raise TypeError(f"text must be str or bytes, not {type(value).__name__}")
    text = _normalise_newlines(value)
    try:
        text.encode("utf-8", errors="strict")
    except UnicodeEncodeError as exc:
        line, column = _line_col(text, exc.start)
        raise InvalidInput(
            Msg(N_("The text is not valid UTF-8 (character {position})."),
                position=exc.start + 1),
            field=field,
            position=exc.start + 1,
            line=line,
            column=column,
        ) from None
    return text


def normalise_text(text: str) -> str:
    """Normalise already-decoded text; does not validate anything.

    CRLF/CR -> LF, NFC, U+00A0/U+202F -> space, trailing whitespace stripped
    from every line, trailing blank lines (and the final line break) removed.
    """
    text = _normalise_newlines(text)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_NO_BREAK_SPACES)
    lines = [_TRAILING_WS_RE.sub("", line) for line in text.split("\n")]
    return "\n".join(lines).rstrip("\n")


def _check_characters(text: str, field: str) -> None:
    for offset, ch in enumerate(text):
        if ch == "\n" or ch == "\t":
            continue
        cp = ord(ch)
        if ch == _REPLACEMENT_CHAR:
            line, column = _line_col(text, offset)
            raise InvalidInput(
                Msg(N_("The text contains the replacement character U+FFFD (line {line}, column "
                       "{column}): it was damaged by a faulty conversion. Paste or upload the "
                       "original text again."), line=line, column=column),
                field=field,
                code_point="U+FFFD",
                position=offset + 1,
                line=line,
                column=column,
            )
        category = unicodedata.category(ch)
        if category == "Cc":
            what = Msg(N_("the NUL character")) if cp == 0 else Msg(N_("a control character"))
        elif category == "Cf" and _is_hiding_format_char(cp):
            what = Msg(N_("an invisible formatting character"))
        else:
            continue
        line, column = _line_col(text, offset)
        code_point = f"U+{cp:04X}"
        raise InvalidInput(
            Msg(N_("The text contains {what} ({code_point}) at line {line}, column {column}. "
                   "Remove it."), what=what, code_point=code_point, line=line, column=column),
            field=field,
            code_point=code_point,
            position=offset + 1,
            line=line,
            column=column,
        )


def validate_section_text(value: str | bytes, *, field: str = "text") -> str:
    """Return the normalised text, or raise :class:`InvalidInput`.

    ``field`` is passed through in the error details so the caller can attach
    the message to the right input.  Checks, in order: encoding, U+FFFD,
    control and hiding format characters, length, identity numbers.
    """
    text = normalise_text(_decode(value, field))
    _check_characters(text, field)

    length = len(text)
    if length > MAX_SECTION_CHARS:
        raise InvalidInput(
            # "{:,}": digits grouped the reader's way (20,001 / 20 001).
            Msg(N_("The text is {length:,} characters; the limit is {limit:,}."),
                length=length, limit=MAX_SECTION_CHARS),
            field=field,
            length=length,
            limit=MAX_SECTION_CHARS,
        )

    hits = find_identity_numbers(text)
    if hits:
        first = hits[0]
        where = {"kind_label": first.label, "line": first.line, "column": first.column}
        if len(hits) > 1:
            message = Msg(N_("The text contains what looks like a {kind_label} (line {line}, "
                             "column {column}). Remove it: such numbers must not be stored. "
                             "There are {more} more in the text."), more=len(hits) - 1, **where)
        else:
            message = Msg(N_("The text contains what looks like a {kind_label} (line {line}, "
                             "column {column}). Remove it: such numbers must not be stored."),
                          **where)
        raise InvalidInput(
            message,
            field=field,
            kind=first.kind,
            position=first.start + 1,
            line=first.line,
            column=first.column,
            count=len(hits),
        )
    return text
