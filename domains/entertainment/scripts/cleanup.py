"""The clean-up pass that keeps a small model's scenes on rails, and the repetition figures it moves.

Small models repeat themselves and wander off the cast list. `clean_scene` removes template
residue the model copied from its instructions (``{{value}}``, ``<name>``, ``[insert line]``), repeated
sentences inside a text, drops dialogue lines already said earlier in the script, maps every
speaker to a cast member, strips stray quotes and ``NAME:`` prefixes, and merges a speaker's
consecutive lines. `repetition` measures distinct-2 (unique word bigrams / all bigrams) of the
dialogue and the share of lines that repeat an earlier line.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domains.entertainment.scripts.draft import SceneText, SpeechLine

__all__ = [
    "CleanupCounts",
    "Repetition",
    "clean_scene",
    "line_key",
    "match_cast_name",
    "repetition",
    "strip_placeholders",
]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[\w']+")
_QUOTES = "\"'“”‘’`"
# Placeholders a small model copies from prompts and schemas instead of filling them in: {{value}},
# {name}, [[note]], [insert ...] / [character name], <name>. None of them is screenplay text.
_TEMPLATE = re.compile(
    r"\{\{[^{}]*\}\}|\{[^{}]*\}|\[\[[^\[\]]*\]\]|\[(?:insert|add|your|character|name|location|scene)\b[^\]]*\]"
    r"|<\s*[\w ]{1,30}\s*>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CleanupCounts:
    """What one clean-up changed."""

    repeated_lines: int = 0
    repeated_sentences: int = 0
    names_fixed: int = 0
    lines_merged: int = 0
    placeholders: int = 0

    def __add__(self, other: CleanupCounts) -> CleanupCounts:
        return CleanupCounts(
            self.repeated_lines + other.repeated_lines,
            self.repeated_sentences + other.repeated_sentences,
            self.names_fixed + other.names_fixed,
            self.lines_merged + other.lines_merged,
            self.placeholders + other.placeholders,
        )


@dataclass(frozen=True)
class Repetition:
    """Repetition in dialogue: ``distinct_2`` in [0, 1] (higher is more varied) and
    ``repeated_line_share`` in [0, 1] (lines whose words match an earlier line's)."""

    lines: int
    distinct_2: float
    repeated_line_share: float


def line_key(text: str) -> str:
    """A line's words, lower-cased: two lines with the same key say the same thing."""
    return " ".join(_WORD.findall(text.lower()))


def repetition(lines: Iterable[str]) -> Repetition:
    """Distinct-2 and the repeated-line share of a sequence of dialogue lines."""
    lines = [line for line in lines if line_key(line)]
    bigrams: list[tuple[str, str]] = []
    seen: set[str] = set()
    repeated = 0
    for line in lines:
        words = line_key(line).split()
        bigrams.extend(itertools.pairwise(words))
        key = " ".join(words)
        repeated += key in seen
        seen.add(key)
    distinct = len(set(bigrams)) / len(bigrams) if bigrams else 1.0
    return Repetition(len(lines), distinct, repeated / len(lines) if lines else 0.0)


def strip_placeholders(text: str) -> tuple[str, int]:
    """The text without template placeholders, and how many there were.

    A sentence with a placeholder in it has a hole where a word should be, so the whole sentence
    goes; only when every sentence has one are the placeholders cut out of the words around them.
    """
    count = len(_TEMPLATE.findall(text))
    if not count:
        return text, 0
    kept = [s for s in _SENTENCE.split(text) if not _TEMPLATE.search(s)]
    if kept:
        return " ".join(kept), count
    cleaned = _TEMPLATE.sub(" ", text)
    return re.sub(r"\s+([,.;:!?])", r"\1", " ".join(cleaned.split())), count


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def _dedupe_sentences(text: str, seen: set[str] | None = None) -> tuple[str, int]:
    """The text without sentences already in it (or in ``seen``, which is updated)."""
    seen = set() if seen is None else seen
    kept, dropped = [], 0
    for sentence in _SENTENCE.split(text):
        key = line_key(sentence)
        if key and key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept).strip(), dropped


def match_cast_name(name: str, cast: Sequence[str]) -> str | None:
    """The cast member a speaker name means (exact, first name, or close spelling), else None."""
    wanted = " ".join(name.split()).upper()
    upper = {c.upper(): c for c in cast}
    if wanted in upper:
        return upper[wanted]
    for candidate, original in upper.items():
        if wanted and (wanted.split()[0] == candidate.split()[0] or wanted in candidate.split()):
            return original
    close = difflib.get_close_matches(wanted, list(upper), n=1, cutoff=0.6)
    return upper[close[0]] if close else None


def _speaker(name: str, cast: Sequence[str], previous: str | None) -> str:
    """A cast member for a speaker the model named: the one meant, else the next one in turn, so an
    invented name becomes a reply from someone who is in the scene's cast."""
    matched = match_cast_name(name, cast)
    if matched:
        return matched
    if previous in cast and len(cast) > 1:
        return cast[(list(cast).index(previous) + 1) % len(cast)]
    return cast[0]


def _strip_speaker_prefix(line: str, cast: Sequence[str]) -> str:
    """``"ANNA: Hello"`` -> ``"Hello"`` when the prefix is a cast name (small models echo the cue)."""
    head, sep, rest = line.partition(":")
    if sep and rest.strip() and match_cast_name(head, cast) and len(head) <= 30:
        return rest.strip()
    return line


def clean_scene(scene: SceneText, cast: Sequence[str], said: set[str]) -> tuple[SceneText, CleanupCounts]:
    """Clean one scene.

    Args:
        scene: The scene as the model wrote it.
        cast: The cast's names; every speaker ends up one of them.
        said: Keys (`line_key`) of lines already spoken earlier in the script; updated in place.

    Returns:
        The cleaned scene and what changed. At least one dialogue line is kept, so the scene still
        has a cue and a speech.
    """
    if not cast:
        raise ValueError("a scene is cleaned against a cast; the cast is empty")
    scene, placeholders = _without_placeholders(scene)
    narrated: set[str] = set()
    action, dropped_a = _dedupe_sentences(_tidy(scene.action), narrated)
    closing, dropped_c = _dedupe_sentences(_tidy(scene.closing), narrated)
    counts = CleanupCounts(repeated_sentences=dropped_a + dropped_c, placeholders=placeholders)
    kept: list[SpeechLine] = []
    fallback: SpeechLine | None = None
    previous: str | None = None
    for speech in scene.lines:
        speaker = _speaker(speech.character, cast, previous)
        fixed = speaker.upper() != " ".join(speech.character.split()).upper()
        line, dropped = _dedupe_sentences(_tidy(_strip_speaker_prefix(_tidy(speech.line), cast)))
        line = line.strip("()").strip() if line.startswith("(") and line.endswith(")") else line
        paren = _tidy(speech.parenthetical).strip("()").strip().lower()
        paren = "" if line_key(paren) == line_key(line) else paren
        counts += CleanupCounts(repeated_sentences=dropped, names_fixed=int(fixed))
        key = line_key(line)
        if not key:
            continue
        candidate = SpeechLine(speaker, line, paren)
        fallback = fallback or candidate
        if key in said or key == line_key(action):
            counts += CleanupCounts(repeated_lines=1)
            continue
        said.add(key)
        if kept and kept[-1].character == speaker and not paren:
            kept[-1] = SpeechLine(speaker, f"{kept[-1].line} {line}", kept[-1].parenthetical)
            counts += CleanupCounts(lines_merged=1)
        else:
            kept.append(candidate)
        previous = speaker
    if not kept and fallback is not None:
        kept.append(fallback)  # a scene keeps a speech even if every line repeated an earlier one
    return SceneText(action, tuple(kept), closing), counts


def _without_placeholders(scene: SceneText) -> tuple[SceneText, int]:
    action, total = strip_placeholders(scene.action)
    closing, n = strip_placeholders(scene.closing)
    total += n
    lines = []
    for speech in scene.lines:
        line, n_line = strip_placeholders(speech.line)
        paren, n_paren = strip_placeholders(speech.parenthetical)
        total += n_line + n_paren
        lines.append(SpeechLine(speech.character, line, paren))
    return SceneText(action, tuple(lines), closing), total
