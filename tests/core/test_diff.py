import pytest

from app.core.diff import Segment, apply, has_changes, word_diff


def test_identical_texts_have_no_changes():
    segments = word_diff("Arbetet pågår.", "Arbetet pågår.")
    assert segments == [Segment("equal", "Arbetet pågår.")]
    assert not has_changes(segments)


def test_a_replaced_word_is_one_deletion_and_one_insertion():
    segments = word_diff("Arbetet hanteras inom linjeveorganisationer.",
                         "Arbetet hanteras inom linjeorganisationer.")
    assert [s.op for s in segments] == ["equal", "delete", "insert"]
    assert segments[1].text == "linjeveorganisationer."
    assert segments[2].text == "linjeorganisationer."


def test_added_bullet_line_is_an_insertion_keeping_line_breaks():
    before = "- Första punkten.\n- Andra punkten."
    after = "- Första punkten.\n- Ny punkt om trygghet.\n- Andra punkten."
    segments = word_diff(before, after)
    inserted = "".join(s.text for s in segments if s.op == "insert")
    assert "Ny punkt om trygghet." in inserted and "\n" in inserted
    assert not any(s.op == "delete" for s in segments)


@pytest.mark.parametrize("before, after", [
    ("", "Ny text."), ("Gammal text.", ""), ("a b c d", "d c b a"),
    ("- Å\n\n- Ä ö", "- Å ä\n- Ö"), ("  spaces   kept ", " spaces kept  "),
])
def test_both_sides_can_be_rebuilt_exactly(before, after):
    segments = word_diff(before, after)
    assert apply(segments, "before") == before
    assert apply(segments, "after") == after


def test_adjacent_segments_of_one_kind_are_merged():
    segments = word_diff("a b", "x y")
    assert [s.op for s in segments] == ["delete", "insert"]
