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
  numbers (samordningsnummer) through :func:`refuse_identity_numbers`, the one
  guard every free text (names, titles, file names, remarks) passes before it is
  stored or audited.  The number itself is never echoed in the error message or
  details, so it cannot reach the database or the audit log.

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
from datetime import date
from typing import Literal

from app.core.clock import STOCKHOLM, now
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg

__all__ = [
    "MAX_SECTION_CHARS",
    "IdentityNumberHit",
    "find_identity_numbers",
    "luhn_ok",
    "normalise_text",
    "redact_identity_numbers",
    "refuse_identity_numbers",
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


# How a number is recognised, as the reader sees it (the decision, and what it costs):
#
# * The text is first read as a reader sees it: every run of whitespace (line breaks, tabs,
#   no-break and other spaces) is one space, invisible format characters (a soft hyphen, a
#   zero-width space) are dropped, Unicode dashes and the minus sign read as "-" and other
#   scripts' decimal digits as ASCII digits.  A hard wrap ("19121212-" / "1212") is then
#   "19121212- 1212", which is what the importer's line joins make of it too.
# * Digits may be grouped the ways people write the number: the date as one run or split
#   year | month | day, then the last four digits, each split by a separator of one to three
#   characters among space, "-" and "+" ("19121212-1212", "1912 12 12-1212",
#   "1912-12-12-1212", "121212 - 1212", "121212+1212").  A line break is a separator like a
#   space, at the same places only: a wrap anywhere else would make numbers of the lines of a
#   statistics table (a PDF's or a DOCX's cells come one a line).
# * The whole number must stand alone: no digit right before or after it, and not inside a
#   hex digest (16 or more hex digits with letters, as a SHA-256 fingerprint in an exported
#   document's footer: one in about 40 holds ten digits that would pass).
# * It must be a real date (a coordination number adds 60 to the day), not after today, in
#   the 1800s, 1900s or 2000s for the 12-digit form, and its Luhn check digit (over
#   YYMMDDNNNC) must be right.
#
# False positives: of random ten-digit strings about one in 140 passes the date and the
# check digit, so the rule refuses only what is shaped like a number.  Phone numbers written
# as people write them ("070-123 45 67", "08-508 000 00", "+46 70 123 45 67") are grouped
# otherwise and pass; organisation numbers ("556677-8899") have a month of 20 or more and
# pass; case numbers ("5000-K123456-26", "KS 2023/1234"), thousands ("1 234 567") and dates
# with a time ("2024-03-15 kl. 14.00") pass.  What is refused although it is not a number
# is a ten-digit run with a plausible date and a right check digit (a phone number written
# without spaces, one in ten of them) or a date followed by a four-digit number; the message
# gives the position, and a space in another place ("070-123 45 67") lets it through.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Invisible format characters a reader does not see between two digits: the soft hyphen, the
# zero-width and directional marks, the word joiner, the BOM, the tag characters.
_INVISIBLE = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
              "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f")
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Only stretches of digits, whitespace, separators and invisible characters can hold a
# number: the rest of the text is skipped (a long text reads fast).
_STRETCH_RE = re.compile(f"[\\d\\s+\\-{_DASHES}{_INVISIBLE}]*\\d[\\d\\s+\\-{_DASHES}{_INVISIBLE}]*")
_SEPARATOR_CHARS = frozenset(" \n+-")
_MAX_SEPARATOR = 3
# Where a separator may fall: after this many digits.
_GROUP_BOUNDARIES = {10: frozenset({2, 4, 6}), 12: frozenset({4, 6, 8})}


def _reader_view(text: str) -> tuple[str, list[int]]:
    """The text as a reader sees it, and for each of its characters the offset in `text`.

    Whitespace runs become one space (a newline if the run holds a line break), invisible
    format characters are dropped, dashes become "-" and decimal digits ASCII.
    """
    chars: list[str] = []
    offsets: list[int] = []
    for offset, ch in enumerate(text):
        if ch.isspace():
            wrap = ch in _LINE_BREAKS
            if chars and chars[-1] in " \n":  # the same run of whitespace
                if wrap:
                    chars[-1] = "\n"
                continue
            chars.append("\n" if wrap else " ")
        elif _INVISIBLE_RE.match(ch):
            continue
        elif ch in _DASHES:
            chars.append("-")
        elif ch.isdecimal():
            chars.append(chr(48 + unicodedata.decimal(ch)) if not ch.isascii() else ch)
        else:
            chars.append(ch)
        offsets.append(offset)
    return "".join(chars), offsets


def _date_ok(year: int, month: int, day: int, today: date) -> bool:
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    return date(year, month, day) <= today


def _classify(digits: str, today: date) -> str | None:
    """The kind if the 10 or 12 digits are a plausible (coordination) number, else None."""
    century = digits[:2] if len(digits) == 12 else None
    ten = digits[-10:]
    yy, month, day = int(ten[:2]), int(ten[2:4]), int(ten[4:6])
    kind = "personnummer"
    if 61 <= day <= 91:
        kind = "samordningsnummer"
        day -= 60
    if century is not None:
        if century not in ("18", "19", "20"):
            return None
        years: tuple[int, ...] = (int(century) * 100 + yy,)
    else:
        # The 10-digit form does not say the century (the separator would, but people get
        # "+" wrong): any century that makes a past date will do.
        years = (1900 + yy, 2000 + yy)
    if not any(_date_ok(y, month, day, today) for y in years):
        return None
    return kind if luhn_ok(ten) else None


def _digit_runs(view: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", view)]


def _candidates(view: str):
    """(start, end, digits) of every grouping of digit runs shaped like a number."""
    runs = _digit_runs(view)
    for first in range(len(runs)):
        digits = ""
        cuts: list[int] = []  # how many digits come before each separator
        for index in range(first, len(runs)):
            start, end = runs[index]
            if index > first:
                gap = view[runs[index - 1][1]:start]
                if not gap or len(gap) > _MAX_SEPARATOR or not set(gap) <= _SEPARATOR_CHARS:
                    break
                cuts.append(len(digits))
            digits += view[start:end]
            if len(digits) > 12:
                break
            allowed = _GROUP_BOUNDARIES.get(len(digits))
            if allowed and all(cut in allowed for cut in cuts):
                yield runs[first][0], end, digits


_HEX_DIGEST_RE = re.compile(r"[0-9a-fA-F]{16,}")


def _inside_hex_digest(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies inside a run of 16 or more hex digits with letters in it
    (a SHA-256 fingerprint, a request id): digits a reader does not read as a number."""
    if not (start > 0 and text[start - 1] in "abcdefABCDEF"
            or end < len(text) and text[end] in "abcdefABCDEF"):
        return False
    left = start
    while left > 0 and text[left - 1] in "0123456789abcdefABCDEF":
        left -= 1
    match = _HEX_DIGEST_RE.match(text, left)
    return match is not None and match.end() >= end


def find_identity_numbers(text: str, *, today: date | None = None) -> list[IdentityNumberHit]:
    """Find Swedish personal identity / coordination numbers in ``text``, as the reader sees
    it (how, and why so, in the comment above).  Hits do not overlap; line/column assume LF
    line breaks.  ``today`` (default: the clock's date in Stockholm) bounds the dates."""
    if today is None:
        today = now().astimezone(STOCKHOLM).date()
    hits: list[IdentityNumberHit] = []
    for stretch in _STRETCH_RE.finditer(text):
        if len(stretch.group()) < 10:  # too short to hold ten digits
            continue
        view, offsets = _reader_view(stretch.group())
        taken_until = -1
        for start, end, digits in _candidates(view):
            if start < taken_until:
                continue
            kind = _classify(digits, today)
            if kind is None:
                continue
            first, last = stretch.start() + offsets[start], stretch.start() + offsets[end - 1]
            if _inside_hex_digest(text, first, last + 1):
                continue
            line, column = _line_col(text, first)
            hits.append(IdentityNumberHit(kind, first, last + 1, line,  # type: ignore[arg-type]
                                          column))
            taken_until = end
    return hits


def refuse_identity_numbers(text: str, *, field: str = "text", what: str | None = None) -> None:
    """The one guard: raise :class:`InvalidInput` if ``text`` holds what looks like a personal
    identity or coordination number.  The message gives the position (and ``what``, the
    field's name for the reader, when the text is not a section text); neither it nor the
    details hold a digit of the number, so the refusal can be shown, logged and audited.
    Run it on every free text before it is stored or written to the trail."""
    hits = find_identity_numbers(text)
    if not hits:
        return
    first = hits[0]
    where = {"kind_label": first.label, "line": first.line, "column": first.column}
    if what is not None and "\n" not in text:
        message = Msg(N_("The {what} contains what looks like a {kind_label} (character "
                         "{column}). Remove it: such numbers must not be stored."),
                      what=what, **where)
    elif what is not None:
        message = Msg(N_("The {what} contains what looks like a {kind_label} (line {line}, "
                         "column {column}). Remove it: such numbers must not be stored."),
                      what=what, **where)
    elif len(hits) > 1:
        message = Msg(N_("The text contains what looks like a {kind_label} (line {line}, "
                         "column {column}). Remove it: such numbers must not be stored. "
                         "There are {more} more in the text."), more=len(hits) - 1, **where)
    else:
        message = Msg(N_("The text contains what looks like a {kind_label} (line {line}, "
                         "column {column}). Remove it: such numbers must not be stored."),
                      **where)
    raise InvalidInput(message, field=field, kind=first.kind, position=first.start + 1,
                       line=first.line, column=first.column, count=len(hits))


def redact_identity_numbers(text: str) -> str:
    """``text`` with each identity number replaced by a mark: for the server's log, which
    must not keep one a request carried (in its path, say)."""
    for hit in reversed(find_identity_numbers(text)):
        text = text[:hit.start] + "[identity number removed]" + text[hit.end:]
    return text


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

    refuse_identity_numbers(text, field=field)
    return text
