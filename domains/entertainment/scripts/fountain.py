"""Fountain (fountain.io) screenplay markup: a parser and a writer over one typed structure.

A `Screenplay` is a title page (ordered ``key -> value``) and a flat list of `Element`s. The writer
decides on its own when an element needs Fountain's forcing marks (``.`` heading, ``!`` action,
``@`` character, ``>`` transition), so ``parse(write(s)) == s`` for every screenplay the parser or the
generator produces. Supported: scene headings (with ``#1#`` scene numbers), action, character cues
(extensions such as ``(V.O.)``), parentheticals, dialogue, dual dialogue (``^``), transitions,
centred text, sections, synopses, notes, lyrics, page breaks, the title page, and boneyard comments
(dropped on parsing). Emphasis marks (``*``, ``**``, ``_``) stay in the text for renderers.

Simplification: leading indentation of action lines is not kept (each line is stripped).

Example:
    >>> play = parse("Title: Rain\\n\\nINT. KITCHEN - NIGHT\\n\\nANNA\\n(quietly)\\nIt stopped.\\n")
    >>> [e.type for e in play.elements]
    ['scene_heading', 'character', 'parenthetical', 'dialogue']
    >>> parse(write(play)) == play
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "Element",
    "ElementType",
    "Screenplay",
    "character_name",
    "parse",
    "renumbered",
    "structure_problems",
    "validate",
    "write",
]

ElementType = Literal[
    "scene_heading",
    "action",
    "character",
    "parenthetical",
    "dialogue",
    "transition",
    "centered",
    "section",
    "synopsis",
    "note",
    "lyrics",
    "page_break",
]
DIALOGUE_BLOCK: frozenset[str] = frozenset({"character", "parenthetical", "dialogue"})

_HEADING = re.compile(r"^(INT\.?/EXT|INT|EXT|EST|I/E)[. ]", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.\-]+)#$")
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]{0,40}):(.*)$")
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_PAGE_BREAK = re.compile(r"^={3,}$")


@dataclass(frozen=True)
class Element:
    """One screenplay element.

    Attributes:
        type: What it is (see `ElementType`).
        text: Its text without Fountain marks; multi-line action and dialogue keep ``\\n``.
            Parentheticals are stored without their brackets.
        scene_number: A scene heading's number (``#12A#``), if any.
        depth: A section's level (1 for ``#``, 2 for ``##``, ...).
        dual: A character cue that speaks at the same time as the previous one (``^``).
    """

    type: ElementType
    text: str = ""
    scene_number: str | None = None
    depth: int = 0
    dual: bool = False


@dataclass
class Screenplay:
    """A title page (``{"Title": ..., "Author": ...}``, in order) and the body's elements."""

    title_page: dict[str, str] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)

    @property
    def title(self) -> str:
        return next((v for k, v in self.title_page.items() if k.lower() == "title"), "")

    def scenes(self) -> list[list[Element]]:
        """The body cut at each scene heading (each list starts with its heading)."""
        scenes: list[list[Element]] = []
        for element in self.elements:
            if element.type == "scene_heading":
                scenes.append([element])
            elif scenes:
                scenes[-1].append(element)
        return scenes


def character_name(cue: str) -> str:
    """The name in a character cue, without extensions: ``"ANNA (V.O.)"`` -> ``"ANNA"``."""
    return cue.split("(", 1)[0].strip()


def _is_upper_cue(text: str) -> bool:
    name = character_name(text)
    return bool(name) and any(c.isalpha() for c in name) and name == name.upper()


def _is_transition(text: str) -> bool:
    return text.endswith("TO:") and text == text.upper()


# -- parsing ----------------------------------------------------------------------------------------


def _parse_title_page(lines: list[str]) -> tuple[dict[str, str], int]:
    """The title page at the top (if the first line is ``Key: value``) and where the body starts."""
    title: dict[str, str] = {}
    if not lines or not _TITLE_KEY.match(lines[0]) or _HEADING.match(lines[0]):
        return title, 0
    key = ""
    i = 0
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        match = _TITLE_KEY.match(line)
        if match and not line[:1].isspace():
            key = match.group(1).strip()
            title[key] = match.group(2).strip()
        elif key and line[:1].isspace():  # an indented continuation of the last key's value
            title[key] = f"{title[key]}\n{line.strip()}".lstrip("\n")
        else:
            return {}, 0  # not a title page after all: it was body text
        i += 1
    return title, i


def _blank(lines: list[str], i: int) -> bool:
    return i < 0 or i >= len(lines) or not lines[i].strip()


def parse(text: str) -> Screenplay:
    """Parse Fountain text into a `Screenplay`.

    Args:
        text: The document (``\\r\\n`` line endings and boneyard ``/* */`` comments are accepted).

    Returns:
        The title page and elements. Any text parses: what matches no other rule is action.
    """
    text = _BONEYARD.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))
    lines = text.split("\n")
    title_page, i = _parse_title_page(lines)
    elements: list[Element] = []
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        if not line:
            i += 1
            continue
        before_blank = _blank(lines, i - 1)
        after_blank = _blank(lines, i + 1)
        if line.startswith("!"):  # forced action outranks every other reading
            i = _read_action(lines, i, elements)
            continue
        if _PAGE_BREAK.match(line):
            elements.append(Element("page_break"))
        elif line.startswith("[[") and before_blank and (end := _note_end(lines, i)) is not None:
            body = "\n".join(part.strip() for part in lines[i : end + 1])
            elements.append(Element("note", body.removeprefix("[[").removesuffix("]]").strip()))
            i = end
        elif line.startswith("#"):
            depth = len(line) - len(line.lstrip("#"))
            elements.append(Element("section", line[depth:].strip(), depth=depth))
        elif line.startswith("=") and not line.startswith("=="):
            elements.append(Element("synopsis", line[1:].strip()))
        elif line.startswith("~"):
            elements.append(Element("lyrics", line[1:].strip()))
        elif line.startswith(">") and line.endswith("<") and len(line) > 1:
            elements.append(Element("centered", line[1:-1].strip()))
        elif line.startswith(">"):
            elements.append(Element("transition", line[1:].strip()))
        elif before_blank and line.startswith(".") and not line.startswith(".."):
            elements.append(_heading(line[1:]))
        elif before_blank and after_blank and _HEADING.match(line):
            elements.append(_heading(line))
        elif before_blank and after_blank and _is_transition(line):
            elements.append(Element("transition", line))
        elif before_blank and not after_blank and _is_cue(line):
            i = _read_dialogue_block(lines, i, elements)
            continue
        else:
            i = _read_action(lines, i, elements)
            continue
        i += 1
    return Screenplay(title_page, elements)


def _is_cue(line: str) -> bool:
    return line.startswith("@") or _is_upper_cue(line.removesuffix("^").strip())


def _heading(text: str) -> Element:
    text = text.strip()
    match = _SCENE_NUMBER.search(text)
    if match:
        return Element("scene_heading", text[: match.start()].strip(), scene_number=match.group(1))
    return Element("scene_heading", text)


def _note_end(lines: list[str], i: int) -> int | None:
    """The last line of a standalone ``[[note]]`` starting at line ``i`` (it may span lines, not a
    blank one), or None when it does not close there (then it is an inline note in action)."""
    if "]]" in lines[i] and not lines[i].rstrip().endswith("]]"):
        return None
    while i < len(lines) and lines[i].strip():
        if lines[i].rstrip().endswith("]]"):
            return i
        i += 1
    return None


def _read_dialogue_block(lines: list[str], i: int, elements: list[Element]) -> int:
    cue = lines[i].strip()
    dual = cue.endswith("^")
    cue = cue.removesuffix("^").strip().removeprefix("@").strip()
    elements.append(Element("character", cue, dual=dual))
    i += 1
    speech: list[str] = []
    # A line of exactly two spaces keeps an empty line inside the speech (Fountain's convention).
    while i < len(lines) and (lines[i].strip() or lines[i] == "  "):
        line = lines[i].strip()
        if line.startswith("(") and line.endswith(")"):
            if speech:
                elements.append(Element("dialogue", "\n".join(speech)))
                speech = []
            elements.append(Element("parenthetical", line[1:-1].strip()))
        else:
            speech.append(line)
        i += 1
    if speech:
        elements.append(Element("dialogue", "\n".join(speech)))
    return i


def _read_action(lines: list[str], i: int, elements: list[Element]) -> int:
    paragraph: list[str] = []
    while i < len(lines) and lines[i].strip():
        line = lines[i].strip()
        paragraph.append(line[1:] if not paragraph and line.startswith("!") else line)
        i += 1
    elements.append(Element("action", "\n".join(paragraph)))
    return i


# -- writing ----------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Non-empty, stripped lines: a blank line inside an element would split it in two."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _needs_force_action(first: str, single_line: bool) -> bool:
    if first[:1] in "!@#=~>.[" or _PAGE_BREAK.match(first):
        return True
    if _HEADING.match(first) or _is_transition(first):
        return True
    # An upper-case first line followed by more lines would read as a character cue and its speech.
    return not single_line and _is_cue(first)


def _write_element(element: Element) -> list[str]:
    kind, text = element.type, element.text.strip()
    if kind == "scene_heading":
        heading = " ".join(_lines(text))
        line = heading if _HEADING.match(heading) else f".{heading}"
        return [f"{line} #{element.scene_number}#" if element.scene_number else line]
    if kind == "action":
        lines = _lines(text) or ["!"]
        if lines != ["!"] and _needs_force_action(lines[0], len(lines) == 1):
            lines[0] = f"!{lines[0]}"
        return lines
    if kind == "character":
        cue = " ".join(_lines(text))
        plain = _is_upper_cue(cue) and not _HEADING.match(cue) and not _is_transition(cue)
        cue = cue if plain and cue[:1] not in "!@#=~>.[" else f"@{cue}"
        return [f"{cue} ^" if element.dual else cue]
    if kind == "parenthetical":
        return [f"({' '.join(_lines(text))})"]
    if kind == "dialogue":
        # An empty line inside a speech is written as two spaces, which keeps the speech together.
        return [line.strip() or "  " for line in text.split("\n")]
    if kind == "transition":
        line = " ".join(_lines(text))
        return [line if _is_transition(line) and not line.endswith("<") else f"> {line}"]
    if kind == "centered":
        return [f"> {' '.join(_lines(text))} <"]
    if kind == "section":
        return [f"{'#' * max(element.depth, 1)} {' '.join(_lines(text))}"]
    if kind == "synopsis":
        return [f"= {' '.join(_lines(text))}"]
    if kind == "note":
        return [f"[[{' '.join(_lines(text))}]]"]
    if kind == "lyrics":
        return [f"~{' '.join(_lines(text))}"]
    if kind == "page_break":
        return ["==="]
    raise ValueError(f"unknown element type {kind!r}")


def write(screenplay: Screenplay) -> str:
    """Write a `Screenplay` as Fountain text (title page first, then the body)."""
    out: list[str] = []
    for key, value in screenplay.title_page.items():
        first, *rest = value.split("\n") if value else [""]
        out.append(f"{key}: {first}".rstrip())
        out.extend(f"    {line.strip()}" for line in rest if line.strip())
    if out:
        out.append("")
    body_start = len(out)
    previous: Element | None = None
    for element in screenplay.elements:
        in_block = (
            previous is not None
            and element.type in ("parenthetical", "dialogue")
            and previous.type in DIALOGUE_BLOCK
        )
        if out and not in_block and out[-1] != "":
            out.append("")
        lines = _write_element(element)
        if len(out) == body_start and element.type == "action" and _TITLE_KEY.match(lines[0]):
            lines[0] = f"!{lines[0]}"  # without a title page, "Key: value" on line 1 would become one
        out.extend(lines)
        previous = element
    return "\n".join(out).strip("\n") + "\n"


# -- validation -------------------------------------------------------------------------------------


def structure_problems(screenplay: Screenplay) -> list[str]:
    """Structural faults a screenplay should not have: speech without a cue, a cue without speech,
    text before the first scene heading. Empty when the structure is sound."""
    problems: list[str] = []
    elements = screenplay.elements
    for index, element in enumerate(elements):
        previous = elements[index - 1] if index else None
        if element.type in ("parenthetical", "dialogue") and (
            previous is None or previous.type not in DIALOGUE_BLOCK
        ):
            problems.append(f"element {index}: {element.type} without a character cue before it")
        if element.type == "character":
            kinds = [e.type for e in elements[index + 1 : index + 3]]
            if kinds[:1] != ["dialogue"] and kinds[:2] != ["parenthetical", "dialogue"]:
                problems.append(f"element {index}: character {element.text!r} has no dialogue")
        if element.type in ("scene_heading", "character", "dialogue", "action") and not element.text.strip():
            problems.append(f"element {index}: empty {element.type}")
    return problems


def validate(screenplay: Screenplay, *, require_dialogue: bool = True) -> list[str]:
    """Every problem that keeps a screenplay from being valid Fountain for this suite: it must write
    and parse back to the same structure, with sound dialogue blocks, and (by default) at least one
    scene heading, character cue and line of dialogue. Empty list: valid."""
    problems = structure_problems(screenplay)
    back = parse(write(screenplay))
    if back.elements != screenplay.elements:
        diff = next(
            (i for i, (a, b) in enumerate(zip(back.elements, screenplay.elements, strict=False)) if a != b),
            min(len(back.elements), len(screenplay.elements)),
        )
        problems.append(f"does not parse back to the same structure (first difference at element {diff})")
    if back.title_page != screenplay.title_page:
        problems.append("the title page does not parse back to the same keys and values")
    if require_dialogue:
        kinds = {e.type for e in screenplay.elements}
        needed = {"scene_heading": "scene heading", "character": "character cue", "dialogue": "dialogue"}
        problems.extend(f"no {name}" for kind, name in needed.items() if kind not in kinds)
    return problems


def renumbered(screenplay: Screenplay) -> Screenplay:
    """A copy with scene headings numbered 1, 2, 3, ... (as production drafts are)."""
    elements, number = [], 0
    for element in screenplay.elements:
        if element.type == "scene_heading":
            number += 1
            element = replace(element, scene_number=str(number))
        elements.append(element)
    return Screenplay(dict(screenplay.title_page), elements)
