"""The city's Word template (LAGESBILD_DOCX_TEMPLATE): its fonts, header (a logo), page set-up
and styles are what every exported document is written into. Unset, the neutral template
shipped in the package (app/documents/docx/lagesbild.docx, made by tools/docx_template.py).

It is checked when the app starts (a bad path or file stops it, naming the setting) and read
again at each export, so a template replaced on disk is used without a restart and one that
went missing gives a clear message instead of an error page."""
from __future__ import annotations

import os
from pathlib import Path

from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.documents.docx_format import DEFAULT_TEMPLATE, load_docx

# What the writer uses: a template without one of them cannot hold the document.
REQUIRED_STYLES = (("Title", "paragraph"), ("Heading 1", "paragraph"),
                   ("Heading 2", "paragraph"), ("List Bullet", "paragraph"),
                   ("Table Grid", "table"))

# path -> (modified, size, bytes): a template is checked once per version of the file.
_checked: dict[str, tuple[int, int, bytes]] = {}


def _unusable(template: str, **params) -> InvalidInput:
    return InvalidInput(Msg(template, **params))


def _missing_styles(data: bytes) -> list[str]:
    from docx.enum.style import WD_STYLE_TYPE

    kinds = {"paragraph": WD_STYLE_TYPE.PARAGRAPH, "table": WD_STYLE_TYPE.TABLE}
    styles = load_docx(data).styles
    present = {(style.name, style.type) for style in styles}
    return [name for name, kind in REQUIRED_STYLES if (name, kinds[kind]) not in present]


def template_bytes(path: str | None) -> bytes:
    """The template's file, checked: a readable, safe DOCX with the styles the writer uses.
    Raises InvalidInput saying what is wrong (the file, not its path: users read it)."""
    location = Path(path) if path else DEFAULT_TEMPLATE
    try:
        status = os.stat(location)
        key = (status.st_mtime_ns, status.st_size)
        cached = _checked.get(str(location))
        if cached is not None and cached[:2] == key:
            return cached[2]
        data = location.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise _unusable(N_("The Word template for documents (LAGESBILD_DOCX_TEMPLATE) does not "
                           "exist: there is no file {name}. An administrator must correct "
                           "the setting."), name=location.name) from None
    except OSError:
        raise _unusable(N_("The Word template for documents (LAGESBILD_DOCX_TEMPLATE) cannot "
                           "be read ({name}). An administrator must correct the setting."),
                        name=location.name) from None
    try:
        missing = _missing_styles(data)
    except InvalidInput:
        raise _unusable(N_("The Word template for documents (LAGESBILD_DOCX_TEMPLATE) is not "
                           "a usable DOCX file ({name}). An administrator must correct the "
                           "setting."), name=location.name) from None
    if missing:
        raise _unusable(N_("The Word template for documents (LAGESBILD_DOCX_TEMPLATE) lacks "
                           "the styles {styles}, which documents use. An administrator must "
                           "add them to the template."), styles=", ".join(missing))
    _checked[str(location)] = (*key, data)
    return data


def check_configured_template(path: str | None) -> None:
    """At start: the app refuses to run with a template it could not export with."""
    from app.config import PREFIX, ConfigurationError

    try:
        template_bytes(path)
    except InvalidInput as error:
        raise ConfigurationError(f"{PREFIX}DOCX_TEMPLATE={path!r}: {error.message}") from None


def configured_template() -> bytes:
    """The template of the running app (read at each export: see the module's docstring)."""
    from flask import current_app

    return template_bytes(current_app.config.get("DOCX_TEMPLATE"))
