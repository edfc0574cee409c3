from __future__ import annotations

import pytest

from domains.entertainment.scripts.cleanup import (
    CleanupCounts,
    clean_scene,
    match_cast_name,
    repetition,
    strip_placeholders,
)
from domains.entertainment.scripts.draft import SceneText, SpeechLine

CAST = ["Anna", "Ben Okafor"]


def test_repeats_names_quotes_and_prefixes_are_cleaned() -> None:
    scene = SceneText(
        action="The quay is empty. The quay is empty. A lamp swings.",
        lines=(
            SpeechLine("ANNA", '"We missed it."'),
            SpeechLine("Benn", "BEN: It will come back."),
            SpeechLine("ANNA", "We missed it."),
            SpeechLine("Stranger", "Nobody comes back.", "(quietly)"),
            SpeechLine("ANNA", "I know. I know."),
        ),
        closing="A lamp swings.",
    )
    said: set[str] = {"an old line"}
    clean, counts = clean_scene(scene, CAST, said)
    assert clean.action == "The quay is empty. A lamp swings."
    assert [(s.character, s.line, s.parenthetical) for s in clean.lines] == [
        ("Anna", "We missed it.", ""),
        ("Ben Okafor", "It will come back.", ""),  # "Benn" and the echoed "BEN:" cue fixed
        # The repeat of line 1 is gone; an invented speaker becomes the next cast member in turn,
        # and Anna's next line (its own repeat removed) joins her speech.
        ("Anna", "Nobody comes back. I know.", "quietly"),
    ]
    assert clean.closing == ""  # it only repeated the action
    assert counts == CleanupCounts(repeated_lines=1, repeated_sentences=3, names_fixed=2, lines_merged=1)
    assert "we missed it" in said


def test_consecutive_lines_of_one_speaker_merge_and_a_speech_always_remains() -> None:
    scene = SceneText("Night.", (SpeechLine("ANNA", "One."), SpeechLine("ANNA", "Two.")))
    clean, counts = clean_scene(scene, CAST, set())
    assert [s.line for s in clean.lines] == ["One. Two."] and counts.lines_merged == 1
    repeated, _ = clean_scene(scene, CAST, {"one", "two"})
    assert len(repeated.lines) == 1  # every line was said before, yet the scene keeps a speech


@pytest.mark.parametrize(
    ("name", "expected"), [("anna", "Anna"), ("BEN", "Ben Okafor"), ("Ana", "Anna"), ("Zed", None)]
)
def test_match_cast_name(name: str, expected: str | None) -> None:
    assert match_cast_name(name, CAST) == expected


def test_repetition_figures() -> None:
    stats = repetition(["a b c", "a b c", "d e"])
    assert stats.lines == 3
    assert stats.repeated_line_share == pytest.approx(1 / 3)
    assert stats.distinct_2 == pytest.approx(3 / 5)
    assert repetition([]).distinct_2 == 1.0


def test_placeholders_copied_from_the_prompt_are_dropped_with_their_sentence() -> None:
    scene = SceneText(
        "Rain on the window. She picks up the {{value}} and leaves.",
        (
            SpeechLine("ANNA", "Hello <name>. Where were you?", ""),
            SpeechLine("BEN", "[insert line]", "({{tone}})"),
            SpeechLine("BEN", "I kept {amount} of it.", ""),
        ),
        "",
    )
    cleaned, counts = clean_scene(scene, ["ANNA", "BEN"], set())
    text = " ".join([cleaned.action, *(f"{s.line} {s.parenthetical}" for s in cleaned.lines)])
    assert not any(mark in text for mark in "{}<>[]"), text
    assert cleaned.action == "Rain on the window."
    assert cleaned.lines[0].line == "Where were you?"
    assert cleaned.lines[-1].line == "I kept of it."  # the only sentence: cut out, not dropped
    assert counts.placeholders == 5
    assert strip_placeholders("Five apples < ten pears.") == ("Five apples < ten pears.", 0)
