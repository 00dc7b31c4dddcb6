"""User-facing messages made in code (no Flask): English message ids that the web layer shows
translated, with their parameters shown in the reader's language too."""
from __future__ import annotations

import string
from collections.abc import Callable

from babel.numbers import format_decimal


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (e.g. in error pages)."""
    return message


class Msg(str):
    """A user-facing message made in code that must not depend on the request's language
    (operations, guards): it reads as English, and keeps its template and parameters so the
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
        return translate(self.template, self.params, _translator.gettext)


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


class _Translator:
    """Where messages find the reader's language: the web layer installs the request's
    (app.core.i18n); until then, and outside a request, messages read in English."""

    gettext: Callable[[str], str] = staticmethod(lambda message: message)
    language: Callable[[], str] = staticmethod(lambda: "en")


_translator = _Translator()


def install_translator(gettext: Callable[[str], str], language: Callable[[], str]) -> None:
    _translator.gettext = gettext
    _translator.language = language


def current_language() -> str:
    """The reader's language: the request's, or English (messages are English)."""
    return _translator.language()


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
