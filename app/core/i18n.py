"""Languages: Swedish by default, English available.

Message ids are English (the code's language). Swedish translations live in one PO file per
package, app/<package>/translations/sv.po, beside the code whose messages it translates.
At start-up the fragments are merged and compiled into the instance folder (a few ms), which
keeps compiled catalogs out of git and needs no build step.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import get_locale, gettext

from app.core.clock import STOCKHOLM, shown_time
from app.core.messages import install_translator

LANGUAGES = {"sv": "Svenska", "en": "English"}
DEFAULT_LANGUAGE = "sv"
APP_DIR = Path(__file__).resolve().parents[1]
DOMAIN = "messages"


def translation_files(language: str) -> list[Path]:
    """Every package's PO file for `language`, in a fixed order."""
    return sorted(APP_DIR.glob(f"*/translations/{language}.po"))


def merged_catalog(language: str) -> Catalog:
    """Every fragment of one language as one catalog; a msgid in two fragments must agree."""
    merged = Catalog(locale=language, domain=DOMAIN)
    for fragment in translation_files(language):
        with fragment.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id:
                continue
            existing = merged.get(message.id, message.context)
            if existing is not None and existing.string != message.string:
                raise ValueError(
                    f"{fragment}: '{message.id}' is translated differently elsewhere")
            merged[message.id] = message
    return merged


def compile_catalogs(target: Path) -> Path:
    """Compile the fragments into target/<lang>/LC_MESSAGES/messages.mo, when they changed."""
    for language in LANGUAGES:
        if language == "en":
            continue  # the message ids are English
        fragments = translation_files(language)
        digest = hashlib.sha256()
        for fragment in fragments:
            digest.update(fragment.parent.parent.name.encode() + b"\0" + fragment.read_bytes())
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


def request_language() -> str:
    """The request's language; English where there is no request or app."""
    try:
        locale = get_locale()
    except KeyError:  # Flask-Babel not set up on this app
        locale = None
    return locale.language if locale is not None else "en"


def select_locale() -> str:
    chosen = session.get("lang") if request else None
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    from app.extensions import babel

    target = compile_catalogs(Path(app.instance_path) / "translations")
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, default_timezone=STOCKHOLM.key,
                   default_translation_directories=str(target), locale_selector=select_locale)
    install_translator(gettext, request_language)
    # The one way a page shows a date or a moment (app.core.clock's format, in every language).
    app.add_template_filter(shown_time, "shown_time")
