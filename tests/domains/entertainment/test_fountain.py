"""Fountain conformance on hand-written examples of every element, and the writer/parser round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.entertainment.scripts.fountain import (
    Element,
    Screenplay,
    character_name,
    parse,
    renumbered,
    structure_problems,
    validate,
    write,
)

SAMPLE = """Title: The Last Ferry
Credit: Written by
Author: Jo Bloggs
Contact:
    12 Harbour Road
    Dover

# Act One

= Anna waits for a ferry that never comes.

EXT. HARBOUR - NIGHT #1#

Rain hammers the empty quay. A lamp swings.
Somewhere a dog barks.

ANNA (V.O.)
(whispering)
It was always late.
Always.

BEN ^
Not *tonight*.

[[Check the lamp prop.]]

CUT TO:

.THE FERRY DECK

>THE END<

> FADE OUT.

~Row, row, row

===

!SILENCE.
Nobody moves.

@McCLANE
Yippee.
"""


def types(text: str) -> list[str]:
    return [e.type for e in parse(text).elements]


def test_sample_parses_to_every_element_in_order() -> None:
    play = parse(SAMPLE)
    assert play.title_page == {
        "Title": "The Last Ferry",
        "Credit": "Written by",
        "Author": "Jo Bloggs",
        "Contact": "12 Harbour Road\nDover",
    }
    assert play.title == "The Last Ferry"
    assert play.elements == [
        Element("section", "Act One", depth=1),
        Element("synopsis", "Anna waits for a ferry that never comes."),
        Element("scene_heading", "EXT. HARBOUR - NIGHT", scene_number="1"),
        Element("action", "Rain hammers the empty quay. A lamp swings.\nSomewhere a dog barks."),
        Element("character", "ANNA (V.O.)"),
        Element("parenthetical", "whispering"),
        Element("dialogue", "It was always late.\nAlways."),
        Element("character", "BEN", dual=True),
        Element("dialogue", "Not *tonight*."),
        Element("note", "Check the lamp prop."),
        Element("transition", "CUT TO:"),
        Element("scene_heading", "THE FERRY DECK"),
        Element("centered", "THE END"),
        Element("transition", "FADE OUT."),
        Element("lyrics", "Row, row, row"),
        Element("page_break"),
        Element("action", "SILENCE.\nNobody moves."),
        Element("character", "McCLANE"),
        Element("dialogue", "Yippee."),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "INT. KITCHEN - DAY",
        "EXT. ROOF - NIGHT",
        "EST. CITY - DAWN",
        "INT./EXT. CAR - DAY",
        "I/E TRAIN - NIGHT",
        "int. kitchen - day",
        "INT KITCHEN",
    ],
)
def test_scene_heading_prefixes(line: str) -> None:
    assert parse(f"\n{line}\n\nShe waits.\n").elements[0] == Element("scene_heading", line)


def test_scene_heading_needs_a_blank_line_before_and_after() -> None:
    assert types("She runs.\nINT. KITCHEN - DAY\n") == ["action"]
    assert types("int. kitchen - day\nShe runs.\n") == ["action"]
    assert types(".SNOWY FIELD\n\nCold.\n") == ["scene_heading", "action"]
    assert types("...and then\n") == ["action"]  # an ellipsis is not a forced heading


def test_character_cue_rules() -> None:
    assert types("BOB\nHi.\n") == ["character", "dialogue"]
    assert types("BOB\n\nHi.\n") == ["action", "action"]  # no speech right below: action
    assert types("R2D2 (O.S.)\nBeep.\n") == ["character", "dialogue"]
    assert types("@McCoy\nDoctor.\n") == ["character", "dialogue"]
    assert types("Bob\nHi.\n") == ["action"]  # not upper case: one action paragraph
    assert types("!BOB\nHi.\n") == ["action"]
    assert character_name("ANNA (V.O.) (CONT'D)") == "ANNA"


def test_parentheticals_and_multi_paragraph_speech() -> None:
    play = parse("ANNA\n(beat)\nFirst.\n(louder)\nSecond.\n  \nThird.\n")
    assert play.elements == [
        Element("character", "ANNA"),
        Element("parenthetical", "beat"),
        Element("dialogue", "First."),
        Element("parenthetical", "louder"),
        Element("dialogue", "Second.\n\nThird."),
    ]
    assert parse(write(play)) == play


def test_dual_dialogue() -> None:
    play = parse("ANNA\nLeft.\n\nBEN ^\nRight.\n")
    assert [e.dual for e in play.elements] == [False, False, True, False]
    assert "BEN ^" in write(play)


def test_transitions() -> None:
    assert parse("\nSMASH CUT TO:\n\n").elements == [Element("transition", "SMASH CUT TO:")]
    assert parse("> Fade to black.\n").elements == [Element("transition", "Fade to black.")]
    assert types("She smiles.\nCUT TO:\n") == ["action"]


def test_centred_text_sections_synopses_lyrics_page_break() -> None:
    play = parse(">  INTERMISSION  <\n\n## Act Two\n\n### Sequence 4\n\n= The storm.\n\n~La la\n\n====\n")
    assert play.elements == [
        Element("centered", "INTERMISSION"),
        Element("section", "Act Two", depth=2),
        Element("section", "Sequence 4", depth=3),
        Element("synopsis", "The storm."),
        Element("lyrics", "La la"),
        Element("page_break"),
    ]


def test_notes_standalone_multiline_and_inline() -> None:
    assert parse("[[Fix this\nlater.]]\n").elements == [Element("note", "Fix this\nlater.")]
    inline = parse("She sits. [[too slow?]]\n").elements
    assert inline == [Element("action", "She sits. [[too slow?]]")]
    assert types("[[unclosed\n\nNext.\n") == ["action", "action"]


def test_title_page_and_boneyard() -> None:
    play = parse(
        "Title:\n    BIG\n    FISH\nAuthor: Me\n\n/* cut this\nscene */\nINT. ROOM - DAY\n\nQuiet.\n"
    )
    assert play.title_page == {"Title": "BIG\nFISH", "Author": "Me"}
    assert [e.type for e in play.elements] == ["scene_heading", "action"]
    assert parse("Hello there.\n\nBye.\n").title_page == {}


def test_windows_line_endings_and_tabs() -> None:
    assert types("INT. ROOM - DAY\r\n\r\nANNA\r\n\tHi.\r\n") == ["scene_heading", "character", "dialogue"]


def test_writer_forces_what_would_be_misread() -> None:
    play = Screenplay(
        {},
        [
            Element("action", "Note: the door is open."),  # would become a title page
            Element("scene_heading", "A SNOWY FIELD"),
            Element("action", "INT. is what the sign says"),
            Element("action", "BANG\nThe door flies open."),
            Element("character", "McCoy"),
            Element("dialogue", "Dammit."),
            Element("transition", "Fade to black."),
            Element("action", "THE END TO:"),
        ],
    )
    text = write(play)
    assert text.startswith("!Note:") and ".A SNOWY FIELD" in text and "@McCoy" in text
    assert parse(text) == play


def test_sample_round_trip_and_validation() -> None:
    play = parse(SAMPLE)
    assert parse(write(play)) == play
    assert write(parse(write(play))) == write(play)
    assert validate(play) == []


def test_validation_reports_broken_structure() -> None:
    broken = Screenplay({}, [Element("scene_heading", "INT. A - DAY"), Element("dialogue", "Who says this?")])
    assert "without a character cue" in " ".join(structure_problems(broken))
    assert "no character cue" in validate(broken)
    mute = Screenplay(
        {},
        [
            Element("scene_heading", "INT. A - DAY"),
            Element("character", "ANNA"),
            Element("action", "She says nothing."),
        ],
    )
    assert any("has no dialogue" in p for p in validate(mute))


def test_renumbered() -> None:
    play = renumbered(parse("INT. A - DAY\n\nX.\n\nEXT. B - NIGHT\n\nY.\n"))
    assert [e.scene_number for e in play.elements if e.type == "scene_heading"] == ["1", "2"]


# -- property: any canonical screenplay survives the round trip -------------------------------------

TEXT = (
    st.text(alphabet="abcdXYZ019 .,!?'-:", min_size=1, max_size=30)
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: s[:1].isalnum())
)
MULTILINE = st.lists(TEXT, min_size=1, max_size=3).map("\n".join)
SIMPLE = st.one_of(
    st.builds(Element, st.just("scene_heading"), TEXT, st.one_of(st.none(), st.sampled_from(["1", "2A"]))),
    st.builds(Element, st.just("action"), MULTILINE),
    st.builds(Element, st.just("transition"), TEXT),
    st.builds(Element, st.just("centered"), TEXT),
    st.builds(Element, st.just("section"), TEXT, depth=st.integers(1, 3)),
    st.builds(Element, st.just("synopsis"), TEXT),
    st.builds(Element, st.just("note"), TEXT),
    st.builds(Element, st.just("lyrics"), TEXT),
    st.just(Element("page_break")),
)


@st.composite
def dialogue_blocks(draw: st.DrawFn) -> list[Element]:
    block = [Element("character", draw(TEXT), dual=draw(st.booleans()))]
    for turn in range(draw(st.integers(1, 3))):
        # Two speeches in a row without a parenthetical between them are one speech.
        if turn or draw(st.booleans()):
            block.append(Element("parenthetical", draw(TEXT)))
        block.append(Element("dialogue", draw(MULTILINE)))
    return block


@settings(max_examples=150, deadline=None)
@given(
    title=st.dictionaries(
        st.sampled_from(["Title", "Credit", "Author", "Draft date", "Contact"]), TEXT, max_size=3
    ),
    parts=st.lists(st.one_of(SIMPLE.map(lambda e: [e]), dialogue_blocks()), max_size=8),
)
def test_round_trip_property(title: dict[str, str], parts: list[list[Element]]) -> None:
    play = Screenplay(title, [e for part in parts for e in part])
    assert parse(write(play)) == play


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses(text: str) -> None:
    play = parse(text)
    assert isinstance(play.elements, list)
