"""Which interface messages lack a Swedish translation.

    python tools/translations.py            # lists them as PO entries to paste into a fragment
    python tools/translations.py --check    # exit 1 if any is missing (the tests do this too)

Messages are found the way pybabel finds them: _(), gettext(), ngettext(), lazy_gettext()
and N_() in app/ and workflows/ Python files, and _() / gettext() in the templates.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None,
            "Msg": None}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"),
              ("**.py", "python")]


def extract() -> dict[str, list[str]]:
    """msgid -> places it is used."""
    found: dict[str, list[str]] = {}
    for folder in ("app", "workflows"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, METHOD_MAP, keywords=KEYWORDS,
                options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}}):
            # ngettext gives (singular, plural): one catalogue entry, keyed by the singular.
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{folder}/{filename}:{lineno}")
    return found


def missing(language: str = "sv") -> dict[str, list[str]]:
    from app.core.i18n import merged_catalog

    catalog = merged_catalog(language)
    result = {}
    for msgid, places in extract().items():
        message = catalog.get(msgid)
        if message is None or not message.string or (
                isinstance(message.string, tuple) and not all(message.string)):
            result[msgid] = places
    return result


def _po_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(argv: list[str]) -> int:
    gaps = missing()
    for msgid, places in sorted(gaps.items()):
        print(f"#: {' '.join(places[:3])}")
        print(f"msgid {_po_string(msgid)}")
        print('msgstr ""\n')
    if "--check" in argv:
        print(f"{len(gaps)} message(s) without a Swedish translation", file=sys.stderr)
        return 1 if gaps else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
