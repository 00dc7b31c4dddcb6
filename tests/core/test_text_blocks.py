"""The one rule by which every page shows a section's text: bullet lines form a list, other
lines paragraphs, blank lines separate."""
from __future__ import annotations

import pytest

from app.core.text_blocks import Block, text_blocks


def test_bullet_lines_form_one_list_and_other_lines_paragraphs():
    text = "Inledning\nfortsätter här.\n- ett\n- två\n\nSlutord"
    assert text_blocks(text) == [
        Block("paragraph", ["Inledning", "fortsätter här."]),
        Block("list", ["ett", "två"]),
        Block("paragraph", ["Slutord"]),
    ]


@pytest.mark.parametrize("bullet", ["- ", "• ", "\uf0fc "])
def test_every_bullet_the_city_writes_is_a_list_item(bullet):
    assert text_blocks(f"{bullet}Skolsamverkan") == [Block("list", ["Skolsamverkan"])]


def test_a_blank_line_separates_two_lists_and_two_paragraphs():
    assert text_blocks("- a\n\n- b") == [Block("list", ["a"]), Block("list", ["b"])]
    assert text_blocks("a\n\nb") == [Block("paragraph", ["a"]), Block("paragraph", ["b"])]


def test_a_lone_dash_is_an_empty_item_and_a_hyphenated_word_is_not_a_bullet():
    assert text_blocks("-\n-x") == [Block("list", [""]), Block("paragraph", ["-x"])]


@pytest.mark.parametrize("text", ["", None, "\n\n  \n"])
def test_no_text_gives_no_blocks(text):
    assert text_blocks(text) == []
