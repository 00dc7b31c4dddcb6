"""A workflow drawn as an SVG arc diagram on the server (no JavaScript, no vendored renderer).

The states stand in a row in their definition order; a transition to a later state arcs above
the row, one back to an earlier state arcs below it, each labelled with its action and the roles
that may take it. Everything is computed from the workflow definition, so the picture cannot
disagree with what the server enforces. The template turns this into SVG (escaping every label).
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from workflows import Workflow

NODE_HEIGHT = 46
NODE_GAP = 70  # between neighbouring boxes: room for the labels of short arcs
CHAR_WIDTH = 7.6  # an estimate for the 13px system font; boxes are sized from it
LABEL_CHARS = 22  # wrap action labels at about this many characters
ARC_BASE = 60
ARC_STEP = 58
LINE_HEIGHT = 15
MARGIN = 24


@dataclass(frozen=True)
class Node:
    name: str
    label: str
    x: float  # left edge
    y: float  # top edge
    width: float
    final: bool
    initial: bool

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Edge:
    trigger: str
    source: str
    dest: str
    path: str
    label_x: float
    label_y: float  # baseline of the first line
    lines: tuple[str, ...]
    above: bool


@dataclass(frozen=True)
class Diagram:
    name: str
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    node_height: int
    start: tuple[float, float]  # the initial-state dot's centre
    line_height: int


def _arc_height(span: int, lines: int) -> float:
    return ARC_BASE + ARC_STEP * (span - 1) + LINE_HEIGHT * (lines - 1)


def arc_diagram(workflow: Workflow, lang: str, role_label: Callable[[str], str],
                system_label: str) -> Diagram:
    definition = workflow.definition
    order = {state.name: index for index, state in enumerate(definition.states)}
    widths = [max(110.0, len(state.label(lang)) * CHAR_WIDTH + 24)
              for state in definition.states]

    edges_raw = []
    for transition in definition.transitions:
        who = ", ".join(role_label(role) for role in sorted(transition.roles)) \
            if transition.roles else system_label
        lines = tuple(textwrap.wrap(transition.label(lang), LABEL_CHARS)) + (f"({who})",)
        for source in transition.sources:
            edges_raw.append((transition.trigger, source, transition.dest, lines))

    def height_of(above: bool) -> float:
        # The arc's lift plus its label, which sits above the apex (or below it).
        heights = [_arc_height(abs(order[d] - order[s]), len(lines)) + LINE_HEIGHT * len(lines)
                   for _t, s, d, lines in edges_raw if (order[d] > order[s]) == above]
        return max(heights, default=0) + 6

    top_room, bottom_room = height_of(True), height_of(False)
    start_room = 40
    y = MARGIN + top_room
    nodes, x = [], MARGIN + start_room
    for state, width in zip(definition.states, widths, strict=False):
        nodes.append(Node(state.name, state.label(lang), x, y, width,
                          state.name in definition.final, state.name == definition.initial))
        x += width + NODE_GAP
    by_name = {node.name: node for node in nodes}

    edges = []
    for trigger, source, dest, lines in edges_raw:
        a, b = by_name[source], by_name[dest]
        above = order[dest] > order[source]
        span = abs(order[dest] - order[source])
        lift = _arc_height(span, len(lines))
        # Leave and enter off-centre so arcs in both directions between two states do not meet.
        x1 = a.centre + (12 if above else -12)
        x2 = b.centre - (12 if above else -12)
        y_edge = y if above else y + NODE_HEIGHT
        control = y_edge - lift * 1.33 if above else y_edge + lift * 1.33
        path = f"M {x1:.1f} {y_edge:.1f} C {x1:.1f} {control:.1f}, {x2:.1f} {control:.1f}, " \
               f"{x2:.1f} {y_edge:.1f}"
        apex = y_edge - lift if above else y_edge + lift
        label_y = apex - 6 - LINE_HEIGHT * (len(lines) - 1) if above else apex + LINE_HEIGHT
        edges.append(Edge(trigger, source, dest, path, (x1 + x2) / 2, label_y, lines, above))

    width = x - NODE_GAP + MARGIN
    height = y + NODE_HEIGHT + bottom_room + MARGIN
    first = nodes[order[definition.initial]]
    return Diagram(definition.name, width, height, tuple(nodes), tuple(edges), NODE_HEIGHT,
                   (first.x - start_room + 8, y + NODE_HEIGHT / 2), LINE_HEIGHT)
