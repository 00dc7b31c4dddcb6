"""Languages: Swedish by default, English available.

Message ids are English (the code's language). Swedish translations live in PO fragments,
one per feature, under app/translations/sv/*.po, so features can be translated side by side.
At start-up the fragments are merged and compiled into the instance folder (a few ms), which
keeps compiled catalogs out of git and needs no build step.
"""
from __future__ import annotations

import hashlib
import os
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, request, session

LANGUAGES = {"sv": "Svenska", "en": "English"}
DEFAULT_LANGUAGE = "sv"
SOURCE_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (e.g. in error pages)."""
    return message


class Msg(str):
    """A user-facing message made in code that must not depend on the request's language
    (services, guards): it reads as English, and keeps its template and parameters so the
    web layer can show it translated. Mark the template for extraction: Msg(N_("..."), x=1).

    Parameters are shown in the reader's language too: a Msg parameter is translated, a Label
    parameter shows its word in that language, and an int formatted with a "," spec
    ("{length:,}") gets that language's digit grouping (English "20,001", Swedish "20 001").
    """

    template: str
    params: dict

    def __new__(cls, template: str, **params):
        text = template.format(**params) if params else template
        message = super().__new__(cls, text)
        message.template = template
        message.params = params
        return message

    def translated(self) -> str:
        from flask_babel import gettext

        return translate(self.template, self.params, gettext)


class Label(str):
    """A word given in both languages where it is defined (a workflow state's label, the name
    of an object type), for use as a Msg parameter. It reads as `text` (what English messages
    show) and, shown translated, as `sv` or `en` (default: `text`)."""

    sv: str
    en: str

    def __new__(cls, text: str, *, sv: str, en: str | None = None):
        label = super().__new__(cls, text)
        label.sv = sv
        label.en = text if en is None else en
        return label

    def in_language(self, language: str) -> str:
        return self.sv if language == "sv" else self.en


def current_language() -> str:
    """The request's language; English where there is no request or app (messages are English)."""
    from flask_babel import get_locale

    try:
        locale = get_locale()
    except KeyError:  # Flask-Babel not set up on this app
        locale = None
    return locale.language if locale is not None else "en"


class _LocalisedFormatter(string.Formatter):
    """str.format that shows each parameter in one language (see Msg)."""

    def __init__(self, language: str, gettext) -> None:
        self.language = language
        self.gettext = gettext

    def format_field(self, value, format_spec: str):
        if isinstance(value, Msg):
            value = translate(value.template, value.params, self.gettext, self.language)
        elif isinstance(value, Label):
            value = value.in_language(self.language)
        elif isinstance(value, int) and not isinstance(value, bool) and format_spec == ",":
            return format_decimal(value, locale=self.language)
        return super().format_field(value, format_spec)


def translate(template: str, params: dict, gettext, language: str | None = None) -> str:
    translated_template = gettext(template) if template else template
    if not params:
        return translated_template
    formatter = _LocalisedFormatter(language or current_language(), gettext)
    return formatter.format(translated_template, **params)


def merged_catalog(language: str) -> Catalog:
    """Every fragment of one language as one catalog; a msgid in two fragments must agree."""
    merged = Catalog(locale=language, domain=DOMAIN)
    for fragment in sorted((SOURCE_DIR / language).glob("*.po")):
        with fragment.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id:
                continue
            existing = merged.get(message.id, message.context)
            if existing is not None and existing.string != message.string:
                raise ValueError(
                    f"{fragment.name}: '{message.id}' is translated differently elsewhere")
            merged[message.id] = message
    return merged


def compile_catalogs(target: Path) -> Path:
    """Compile the fragments into target/<lang>/LC_MESSAGES/messages.mo, when they changed."""
    for language in LANGUAGES:
        if language == "en":
            continue  # the message ids are English
        fragments = sorted((SOURCE_DIR / language).glob("*.po"))
        digest = hashlib.sha256()
        for fragment in fragments:
            digest.update(fragment.name.encode() + b"\0" + fragment.read_bytes())
        out_dir = target / language / "LC_MESSAGES"
        stamp = out_dir / f"{DOMAIN}.sha256"
        mo_file = out_dir / f"{DOMAIN}.mo"
        if mo_file.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        temporary = mo_file.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            write_mo(handle, merged_catalog(language))
        temporary.replace(mo_file)  # atomic: parallel workers never read half a file
        stamp.write_text(digest.hexdigest())
    return target


def select_locale() -> str:
    chosen = session.get("lang") if request else None
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    from app.extensions import babel

    target = compile_catalogs(Path(app.instance_path) / "translations")
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, default_timezone="Europe/Stockholm",
                   default_translation_directories=str(target), locale_selector=select_locale)
