"""A section's plain text as blocks for display: runs of bullet lines become one list, other
lines paragraphs (consecutive lines of a paragraph are kept together, blank lines separate).
Every page that shows a section's text (the contribution, the consolidation, the print view)
draws it from this; Jinja escapes the text, this only decides which lines form what."""
from __future__ import annotations

from dataclasses import dataclass, field

BULLET_PREFIXES = ("- ", "• ", "\uf0fc ")  # "-", "•", and Word's Wingdings check mark


@dataclass
class Block:
    kind: str  # "list" or "paragraph"
    lines: list[str] = field(default_factory=list)


def text_blocks(text: str) -> list[Block]:
    """Plain text as blocks: runs of bullet lines become one list, other lines paragraphs
    (consecutive lines of a paragraph are kept together, blank lines separate)."""
    blocks: list[Block] = []
    for raw in (text or "").split("\n"):
        line = raw.strip()
        if not line:
            blocks.append(Block("break"))
            continue
        bullet = next((p for p in BULLET_PREFIXES if line.startswith(p)), None)
        if bullet is not None or line in ("-", "•"):
            item = line[len(bullet):].strip() if bullet else ""
            if blocks and blocks[-1].kind == "list":
                blocks[-1].lines.append(item)
            else:
                blocks.append(Block("list", [item]))
        elif blocks and blocks[-1].kind == "paragraph":
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block("paragraph", [line]))
    return [b for b in blocks if b.kind != "break"]
