"""Word-level differences between two texts, for reviewers and auditors.

Tokens are words with their following whitespace, so line breaks and bullets survive.
The result is a list of segments ("equal" | "insert" | "delete", text); templates mark
insertions and deletions with <ins>/<del> and a text label, never by colour alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Segment:
    op: str  # "equal", "insert" or "delete"
    text: str


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def word_diff(before: str, after: str) -> list[Segment]:
    old, new = tokens(before), tokens(after)
    # autojunk off: texts are short, and frequent words must still be matched.
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    segments: list[Segment] = []

    def emit(op: str, parts: list[str]) -> None:
        text = "".join(parts)
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("equal", old[i1:i2])
        else:
            emit("delete", old[i1:i2])
            emit("insert", new[j1:j2])
    return segments


def has_changes(segments: list[Segment]) -> bool:
    return any(s.op != "equal" for s in segments)


def apply(segments: list[Segment], side: str) -> str:
    """Rebuild one side: "before" (equal + delete) or "after" (equal + insert)."""
    keep = {"before": "delete", "after": "insert"}[side]
    return "".join(s.text for s in segments if s.op in ("equal", keep))
