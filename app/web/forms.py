"""What every form's handler reads the same way: the version the user saw (a stale save is a
conflict, never an overwrite) and where to go next (only a local path)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request, url_for

from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.core.parsing import MAX_ID, parse_id, whole_number


def expected_version() -> int:
    """The version the form was rendered with (a hidden field): a whole number the version
    column can hold, or the form is refused."""
    # 0 is older than any version (they start at 1): a conflict, as any stale version is.
    version = whole_number(request.form.get("expected_version"), 0, MAX_ID)
    if version is None:
        raise InvalidInput(Msg(N_("The form lacks the version you saw. Reload the page and try "
                                  "again.")))
    return version


def form_id(name: str) -> int | None:
    """An id chosen in a form (a select's value): None when empty, else what an id column
    holds (app.core.parsing), or InvalidInput naming the field."""
    return parse_id(request.form.get(name), field=name)


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the start page."""
    # Only local paths: never redirect a signed-in user to another site. Backslashes and
    # control characters are refused outright: browsers read "\" as "/" and drop tabs and
    # newlines (so "/\t/evil" is "//evil"), and a newline cannot go into a Location header.
    if target and target.startswith("/") and not target.startswith("//") \
            and not any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target) \
            and not urlsplit(target).netloc:
        return target
    return url_for("web.start")


def chosen_versions(kind: str = "contribution") -> dict[int, int]:
    """{id: version} from hidden fields named "<kind>_<id>_version": the objects a confirmation
    listed and the versions the user saw. Malformed fields are refused, not skipped."""
    chosen = {}
    pattern = re.compile(rf"{re.escape(kind)}_(.*)_version")
    for name, value in request.form.items():
        match = pattern.fullmatch(name)
        if match is None:
            continue
        object_id = whole_number(match.group(1), 1, MAX_ID)
        version = whole_number(value, 0, MAX_ID)
        if object_id is None or version is None:
            raise InvalidInput(Msg(N_("The form is damaged. Reload the page and try again.")))
        chosen[object_id] = version
    return chosen
