"""Section text for display: plain text whose "- " lines are bullets. Jinja escapes the text;
this only decides which lines form a list and which a paragraph."""
from __future__ import annotations

from dataclasses import dataclass, field

BULLETS = ("- ", "• ", "* ")


@dataclass
class Block:
    kind: str  # "list" or "paragraph"
    lines: list[str] = field(default_factory=list)


def text_blocks(text: str | None) -> list[Block]:
    blocks: list[Block] = []
    for raw in (text or "").split("\n"):
        line = raw.strip()
        if not line:
            if blocks and blocks[-1].kind == "paragraph":
                blocks.append(Block("break"))  # a blank line ends a paragraph
            continue
        bullet = next((b for b in BULLETS if line.startswith(b)), None)
        if bullet:
            if not blocks or blocks[-1].kind != "list":
                blocks.append(Block("list"))
            blocks[-1].lines.append(line[len(bullet):].strip())
        else:
            if not blocks or blocks[-1].kind != "paragraph":
                blocks.append(Block("paragraph"))
            blocks[-1].lines.append(line)
    return [block for block in blocks if block.kind != "break"]
