"""The parsing layer: ids and numbers only in ASCII digits and within an INTEGER column, dates
within the service's window, NUL characters found; the URL converter answers 404 for the rest."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from app.core import parsing
from app.core.errors import InvalidInput
from app.core.messages import translate

INT4_MAX = 2_147_483_647


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1), ("  42 ", 42), ("007", 7), (str(INT4_MAX), INT4_MAX), ("0", 0),
    (str(INT4_MAX + 1), None), ("99999999999999999999", None), ("9" * 5000, None),
    ("-1", None), ("+1", None), ("1.0", None), ("1_000", None), ("1e3", None), ("0x10", None),
    ("²", None), ("١٢", None), ("１２", None), ("", None), (" ", None), (None, None),
    ("1\x00", None), ("1 2", None),
])
def test_whole_number_takes_ascii_digits_within_the_column(text, expected):
    assert parsing.whole_number(text) == expected


def test_whole_number_bounds_are_inclusive():
    assert parsing.whole_number("5", 5, 5) == 5
    assert parsing.whole_number("4", 5, 10) is None
    assert parsing.whole_number("11", 5, 10) is None


def test_int4_is_the_limit_because_postgresql_ids_are_integer():
    from app.models import AuditEvent, Contribution

    assert parsing.MAX_ID == INT4_MAX
    # If a column became BIGINT the limit could grow; if it shrank, this must.
    for column in (Contribution.__table__.c.id, AuditEvent.__table__.c.seq):
        assert type(column.type).__name__ == "Integer"


def test_parse_id_empty_is_none_and_bad_input_names_the_field(app):
    assert parsing.parse_id("", field="period") is None
    assert parsing.parse_id(None, field="period") is None
    assert parsing.parse_id(" 12 ", field="period") == 12
    for bad in ("0", "-3", "x", "²", "2147483648"):
        with pytest.raises(InvalidInput) as refused:
            parsing.parse_id(bad, field="period")
        assert str(refused.value) == (f"'period' must be a number from 1 to 2,147,483,647, "
                                      f"not '{bad}'.")


def test_a_long_refused_value_is_shortened_and_shows_no_nul(app):
    with pytest.raises(InvalidInput) as refused:
        parsing.parse_id("x" * 500 + "\x00", field="area")
    assert "x" * 40 + "…" in str(refused.value) and "x" * 41 not in str(refused.value)
    assert parsing.shown("a\x00b") == "a\\0b"


def test_the_number_message_is_swedish_with_swedish_digit_grouping(app):
    with pytest.raises(InvalidInput) as refused:
        parsing.parse_id("x", field="period")
    error = refused.value
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("sv"):
            shown = translate(error.template, error.params, gettext)
    assert shown == "”period” måste vara ett tal från 1 till 2\xa0147\xa0483\xa0647, inte ”x”." \
        or shown == "”period” måste vara ett tal från 1 till 2 147 483 647, inte ”x”."


# -- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2030-01-31", date(2030, 1, 31)), (" 2000-01-01 ", date(2000, 1, 1)),
    ("2100-12-31", date(2100, 12, 31)), ("", None),
])
def test_parse_date(text, expected):
    assert parsing.parse_date(text, field="from") == expected


@pytest.mark.parametrize(("text", "message"), [
    ("0001-01-01", "outside the dates the system handles: 2000-01-01 to 2100-12-31"),
    ("9999-12-31", "outside the dates the system handles"),
    ("1999-12-31", "outside the dates the system handles"),
    ("2101-01-01", "outside the dates the system handles"),
    ("2030-02-30", "is not a date"), ("2030-13-01", "is not a date"),
    ("20300101", "is not a date"), ("٢٠٣٠-٠١-٠١", "is not a date"), ("2030-1-1", "is not a date"),
    ("31/12/2029", "is not a date"), ("2030-01-01\x00", "is not a date"),
])
def test_parse_date_refuses_with_a_message(app, text, message):
    with pytest.raises(InvalidInput, match=message):
        parsing.parse_date(text, field="from")


def test_a_local_moment_is_swedish_time_as_utc():
    winter = parsing.parse_local_moment("2030-01-15T10:30", field="at")
    assert winter == datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
    summer = parsing.parse_local_moment("2030-07-01 12:00:05", field="at")
    assert summer == datetime(2030, 7, 1, 10, 0, 5, tzinfo=UTC)
    assert parsing.parse_local_moment("2030-01-15T10:30:00Z", field="at") == \
        datetime(2030, 1, 15, 10, 30, tzinfo=UTC)
    assert parsing.parse_local_moment("2030-01-15T10:30:00+02:00", field="at") == \
        datetime(2030, 1, 15, 8, 30, tzinfo=UTC)
    assert parsing.parse_local_moment("", field="at") is None


def test_a_bare_date_is_the_start_of_the_day_or_of_the_next():
    assert parsing.parse_local_moment("2030-01-15", field="from") == \
        datetime(2030, 1, 14, 23, 0, tzinfo=UTC)
    assert parsing.parse_local_moment("2030-01-15", field="to", end_of_day=True) == \
        datetime(2030, 1, 15, 23, 0, tzinfo=UTC)
    # The window's last day still has a next day to end on.
    assert parsing.parse_local_moment("2100-12-31", field="to", end_of_day=True) == \
        datetime(2100, 12, 31, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "0001-01-01T00:00", "9999-12-31T23:59:59", "0001-01-01", "9999-12-31",
])
def test_the_calendars_ends_are_refused_not_overflowed(app, text):
    for end_of_day in (False, True):
        with pytest.raises(InvalidInput, match="outside the dates"):
            parsing.parse_local_moment(text, field="to", end_of_day=end_of_day)


@pytest.mark.parametrize("text", [
    "2030-01-15T25:00", "2030-02-30T10:00", "2030-01-15T10", "2030-01-15T10:30:00+25:00",
    "2030-01-15T١٠:٣٠", "yesterday", "2030-01-15T10:30:00.1234567",
])
def test_a_malformed_moment_is_refused(app, text):
    with pytest.raises(InvalidInput, match="is not a date"):
        parsing.parse_local_moment(text, field="at")


# -- NUL characters ---------------------------------------------------------------------------

def test_field_with_nul_names_the_field():
    assert parsing.field_with_nul([("a", "x"), ("b", None)]) is None
    assert parsing.field_with_nul([("a", "x"), ("email", "a\x00b@x.se")]) == "email"
    assert parsing.field_with_nul([("bad\x00name", "")]) == "bad\\0name"


# -- the URL converter -----------------------------------------------------------------------

def test_the_id_converter_matches_only_ids_a_column_can_hold():
    app = Flask(__name__)
    app.url_map.converters["id"] = parsing.IdConverter
    app.add_url_rule("/things/<id:thing_id>", "thing", lambda thing_id: f"thing {thing_id!r}")
    client = app.test_client()
    for path, body in (("/things/1", "thing 1"), (f"/things/{INT4_MAX}", f"thing {INT4_MAX}"),
                       ("/things/007", "thing 7")):
        response = client.get(path)
        assert response.status_code == 200 and response.get_data(as_text=True) == body
    # Anything else is a plain 404, like any page that does not exist.
    for path in ("/things/2147483648", "/things/99999999999999999999", "/things/%C2%B2",
                 "/things/%D9%A1%D9%A2", "/things/0", "/things/-1", "/things/1.5",
                 "/things/%00", "/things/%ff"):
        assert client.get(path).status_code == 404, path
    with app.test_request_context():
        from flask import url_for

        assert url_for("thing", thing_id=12) == "/things/12"
