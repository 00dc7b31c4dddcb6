"""Refusing, for every request and before anything reads the database, input that no page
can use: NUL characters, which PostgreSQL cannot store in text (SQLite can, so without this
the two databases would answer differently), in the path, the query string, a form field's
name or value, or an uploaded file's name. (A request body over MAX_CONTENT_LENGTH is refused
by Werkzeug with 413 as it is read; app.web shows the page.)"""
from __future__ import annotations

from itertools import chain

from flask import request

from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.core.parsing import field_with_nul


def refuse_nul_characters() -> None:
    """A before_request hook: InvalidInput (400, the error page) naming the field."""
    files = ((name, upload.filename) for name, upload in request.files.items(multi=True))
    found = field_with_nul(chain(
        [("URL", request.path)],
        request.args.items(multi=True),
        request.form.items(multi=True),
        files,
    ))
    if found is not None:
        raise InvalidInput(Msg(N_("The request contains a NUL character (in '{field}'), which "
                                  "no field accepts. Remove it and try again."), field=found))
