"""One format for every date and moment a page shows: the Swedish convention (ISO 8601),
"2026-12-11" and "2026-12-11 14:05" in Swedish time, in either language; every template
shows them through the one filter."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from app.core.clock import shown_time
from tests.factories import advance

APP = Path(__file__).resolve().parents[2] / "app"


def test_a_date_and_a_moment_in_swedish_time():
    assert shown_time(date(2026, 12, 11)) == "2026-12-11"
    assert shown_time(datetime(2026, 12, 11, 13, 5, 59, tzinfo=UTC)) == "2026-12-11 14:05"
    assert shown_time(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == "2026-07-01 00:30"  # CEST
    assert shown_time(datetime(2026, 12, 11, 13, 5)) == "2026-12-11 14:05"  # naive: UTC
    assert shown_time(None) == ""


def test_every_template_shows_dates_through_the_one_filter():
    """Babel's datetimeformat/dateformat would give "11 dec. 2026" on one page and
    "2026-12-11" on the next; a date's isoformat() as text skips the time zone."""
    offenders = []
    for path in sorted(APP.rglob("templates/**/*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # A form's value (datetime-local) and a <time datetime="..."> are for machines.
            visible = re.sub(r'(value|datetime)="[^"]*"', "", line)
            if re.search(r"datetimeformat|dateformat|timeformat|strftime|isoformat\(\)",
                         visible):
                offenders.append(f"{path.relative_to(APP)}:{number}")
    assert not offenders, "use the shown_time filter: " + ", ".join(offenders)


def test_pages_show_deadlines_and_times_in_the_one_format_in_both_languages(web, world):
    advance(world, "Norr", "returned")
    period = world.period()
    deadline = period.drafting_deadline.isoformat()
    web.log_in_as("drafter")
    for language in ("sv", "en"):
        web.client.post("/language", data={"lang": language, "next": "/",
                                           "csrf_token": web.csrf_token("/")})
        contribution = world.contribution("Norr")
        for path in ("/", "/periods", f"/periods/{period.id}",
                     f"/contributions/{contribution.id}",
                     f"/contributions/{contribution.id}/history"):
            html = web.client.get(path).get_data(as_text=True)
            shown = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', html)
            assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", t) for t in shown), \
                (language, path, shown)
            assert not re.search(r"\d{1,2} (jan|feb|dec)\.? \d{4}", html), (language, path)
        assert deadline in web.client.get(f"/periods/{period.id}").get_data(as_text=True)
