"""Hierarchical screenplay generation in the manner of Dramatron (Mirowski et al., CHI 2023).

logline -> title -> characters -> outline (scene plans: heading, location, purpose) -> each scene's
action and dialogue. Every level is one typed structure produced by the language core's
`TextGenerator.generate_json` under a JSON schema with bounded lengths (so a grammar-constrained
local model always closes its JSON within the token budget), and speakers are an ``enum`` of the
cast. Any item can be regenerated alone; the rest of the draft stays as it is.

Seeds: each item's seed mixes the draft's seed, the item's key and how often it was regenerated,
so the same seed, settings and model give the same draft, and a regeneration gives a new but
reproducible item.

Example:
    >>> writer = ScriptWriter(build_text_generator())
    >>> draft = writer.write(DraftSettings("A lighthouse keeper finds a message in a bottle.", scenes=3))
    >>> print(draft.to_fountain())
"""

from __future__ import annotations

import dataclasses
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Literal

from domains.entertainment.scripts.cleanup import clean_scene, line_key
from domains.entertainment.scripts.draft import (
    TIMES_OF_DAY,
    CastMember,
    Draft,
    DraftSettings,
    ScenePlan,
    SceneText,
    SpeechLine,
    WrittenScene,
)
from domains.entertainment.scripts.fountain import Element, Screenplay, validate
from shared_models.exceptions import InputError, ModelError
from shared_models.lm import GenerationOptions, TextGenerator
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = ["STEPS", "ScriptWriter", "Step", "scene_problems"]

Step = Literal["title", "cast", "outline", "scenes"]
STEPS: tuple[Step, ...] = ("title", "cast", "outline", "scenes")
SYSTEM = "You are a professional screenwriter. You write short, concrete, original scenes."
# Bounds on every generated string: they keep each JSON answer inside its token budget.
NAME_CHARS, DESCRIPTION_CHARS, LOCATION_CHARS, PURPOSE_CHARS = 16, 110, 30, 130
ACTION_CHARS, LINE_CHARS, PAREN_CHARS = 220, 120, 24
ITEM_ATTEMPTS = 3  # a scene that fails validation (or a duplicate name) is redrawn with the next seed


def _string(max_length: int, min_length: int = 2) -> dict[str, Any]:
    # The pattern keeps control characters (raw newlines), quotes and backslashes out of the string:
    # llama-cpp-python's schema grammar lets a raw newline into a JSON string, which no JSON parser
    # accepts, and a bounded pattern still bounds the length for the grammar.
    pattern = rf'^[^"\\\x00-\x1f]{{{min_length},{max_length}}}$'
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": pattern}


def _member_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": _string(NAME_CHARS), "description": _string(DESCRIPTION_CHARS, 8)},
        "required": ["name", "description"],
    }


def _plan_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "setting": {"enum": ["INT.", "EXT."]},
            "location": _string(LOCATION_CHARS, 3),
            "time": {"enum": list(TIMES_OF_DAY)},
            "purpose": _string(PURPOSE_CHARS, 8),
        },
        "required": ["setting", "location", "time", "purpose"],
    }


def _scene_schema(cast: Sequence[str], lines: int) -> dict[str, Any]:
    speech = {
        "type": "object",
        "properties": {
            "character": {"enum": [name.upper() for name in cast]},
            "parenthetical": _string(PAREN_CHARS, 0),
            "line": _string(LINE_CHARS, 3),
        },
        "required": ["character", "parenthetical", "line"],
    }
    return {
        "type": "object",
        "properties": {
            "action": _string(ACTION_CHARS, 8),
            "dialogue": {"type": "array", "items": speech, "minItems": 2, "maxItems": lines},
            "closing": _string(ACTION_CHARS // 2, 0),
        },
        "required": ["action", "dialogue", "closing"],
    }


def _budget(schema: dict[str, Any], items: int = 1) -> int:
    """Tokens enough for the longest answer the schema allows (a token holds at least a character)."""

    def chars(node: dict[str, Any]) -> int:
        if "maxLength" in node:
            return node["maxLength"] + 8
        if "enum" in node:
            return max(len(str(v)) for v in node["enum"]) + 8
        if node.get("type") == "array":
            return node.get("maxItems", 1) * chars(node["items"]) + 4
        return sum(chars(child) + len(key) + 6 for key, child in node.get("properties", {}).items())

    return min(2048, chars(schema) * items // 2 + 64)  # sub-word tokens average well over 2 characters


def scene_problems(plan: ScenePlan, body: Sequence[Element]) -> list[str]:
    """Why a scene would not be valid Fountain with a heading, a cue and dialogue (empty: valid)."""
    scene = Screenplay({}, [Element("scene_heading", plan.heading), *body])
    return validate(scene)


def _seed(settings: DraftSettings, key: str, version: int) -> int:
    return (settings.seed * 1_000_003 + zlib.crc32(key.encode()) + 7919 * version) % 2**31


def _story(draft: Draft, *, with_cast: bool = True) -> str:
    s = draft.settings
    parts = [f"Logline: {s.logline}", f"Genre: {s.genre}. Tone: {s.tone}. Audience: {s.audience}."]
    if draft.title:
        parts.append(f"Title: {draft.title}")
    if with_cast and draft.cast:
        parts.append("Characters: " + "; ".join(f"{m.name.upper()}, {m.description}" for m in draft.cast))
    return "\n".join(parts)


class ScriptWriter:
    """Writes and rewrites the levels of a `Draft` with one `TextGenerator`.

    Args:
        lm: The language model (the suite passes the configured one; any backend works).
        max_tokens_cap: Upper bound on any single answer's tokens.
    """

    def __init__(self, lm: TextGenerator, *, max_tokens_cap: int = 2048) -> None:
        self.lm = lm
        self.max_tokens_cap = max_tokens_cap
        # where the JSON of the item being written goes as it grows; per thread, since the suite
        # may run drafts of several sessions on one writer
        self._live = threading.local()

    # -- one call per item -----------------------------------------------------------------------

    def _json(self, draft: Draft, key: str, schema: dict[str, Any], prompt: str, attempt: int = 0) -> Any:
        s = draft.settings
        options = GenerationOptions(
            max_tokens=min(self.max_tokens_cap, _budget(schema)),
            temperature=s.temperature,
            repeat_penalty=s.repeat_penalty,
            seed=_seed(s, key, draft.versions.get(key, 0) * ITEM_ATTEMPTS + attempt),
        )
        return self.lm.generate_json(
            schema, prompt, options, system=SYSTEM, on_text=getattr(self._live, "on_text", None)
        )

    def title(self, draft: Draft) -> str:
        schema = {"type": "object", "properties": {"title": _string(60)}, "required": ["title"]}
        prompt = f"{_story(draft, with_cast=False)}\n\nGive this film a short, original title (2 to 5 words)."
        title = " ".join(self._json(draft, "title", schema, prompt)["title"].split()).strip(" \"'.")
        return title or "Untitled"

    def cast(self, draft: Draft) -> tuple[CastMember, ...]:
        n = draft.settings.cast_size
        schema = {
            "type": "object",
            "properties": {
                "characters": {"type": "array", "items": _member_schema(), "minItems": n, "maxItems": n}
            },
            "required": ["characters"],
        }
        prompt = (
            f"{_story(draft, with_cast=False)}\n\nCreate the {n} main characters of this story. Each has a "
            "different first name and a one-sentence description: age, job, and what they want."
        )
        for attempt in range(ITEM_ATTEMPTS):
            raw = self._json(draft, "cast", schema, prompt, attempt)["characters"]
            members = _unique_members(raw)
            if len(members) == n:
                return members
        raise ModelError(
            f"{self.lm.model_name} kept giving characters the same name; regenerate, or edit the names"
        )

    def cast_member(self, draft: Draft, index: int) -> CastMember:
        others = [m for i, m in enumerate(draft.cast) if i != index]
        listing = "; ".join(f"{m.name}, {m.description}" for m in others) or "none yet"
        prompt = (
            f"{_story(draft, with_cast=False)}\nOther characters: {listing}\n\n"
            "Create one more main character "
            "with a new first name, different from the others, and a one-sentence description."
        )
        taken = {line_key(m.name) for m in others}
        for attempt in range(ITEM_ATTEMPTS):
            member = _unique_members([self._json(draft, f"cast:{index}", _member_schema(), prompt, attempt)])
            if member and line_key(member[0].name) not in taken:
                return member[0]
        raise ModelError(f"{self.lm.model_name} kept repeating an existing name; edit the name by hand")

    def outline(self, draft: Draft) -> tuple[ScenePlan, ...]:
        n = draft.settings.scenes
        schema = {
            "type": "object",
            "properties": {
                "scenes": {"type": "array", "items": _plan_schema(), "minItems": n, "maxItems": n}
            },
            "required": ["scenes"],
        }
        prompt = (
            f"{_story(draft)}\n\nWrite the outline: exactly {n} scenes that tell this story from beginning "
            "to end. For each scene: INT. or EXT., a short location, the time of day, and one sentence "
            "saying what happens and why it matters."
        )
        return tuple(_plan(p) for p in self._json(draft, "outline", schema, prompt)["scenes"])

    def scene_plan(self, draft: Draft, index: int) -> ScenePlan:
        listing = "\n".join(
            f"{i + 1}. {p.heading}: {p.purpose}" for i, p in enumerate(draft.outline) if i != index
        )
        prompt = (
            f"{_story(draft)}\nThe other scenes:\n{listing}\n\nWrite a new scene {index + 1} that fits "
            "between the scene before and the scene after it: INT. or EXT., location, time of day, and "
            "one sentence saying what happens."
        )
        return _plan(self._json(draft, f"outline:{index}", _plan_schema(), prompt))

    def raw_scene(self, draft: Draft, index: int, attempt: int = 0) -> SceneText:
        """Scene ``index`` exactly as the model writes it (before the clean-up pass)."""
        if not draft.cast:
            raise InputError("write the characters before the scenes")
        if not 0 <= index < len(draft.outline):
            raise InputError(f"there is no scene {index + 1} in the outline")
        plan = draft.outline[index]
        before = (
            f"Previous scene: {draft.outline[index - 1].purpose}\n"
            if index
            else "This is the opening scene.\n"
        )
        lines = draft.settings.lines_per_scene
        prompt = (
            f"{_story(draft)}\n\nScene {index + 1} of {len(draft.outline)}: {plan.heading}\n"
            f"What happens: {plan.purpose}\n{before}\nWrite this scene: a short action paragraph in the "
            f"present tense, then 2 to {lines} lines of dialogue between the characters that move the scene "
            "forward (each line says something new), then one closing action line."
        )
        schema = _scene_schema(draft.cast_names, lines)
        answer = self._json(draft, f"scene:{index}", schema, prompt, attempt)
        speeches = tuple(
            SpeechLine(d["character"], d["line"], d.get("parenthetical", "")) for d in answer["dialogue"]
        )
        return SceneText(answer["action"], speeches, answer.get("closing", ""))

    def scene(self, draft: Draft, index: int) -> WrittenScene:
        """Scene ``index`` written, cleaned (against the lines of the other written scenes) and
        checked as Fountain; an invalid scene is redrawn with the next seed.

        Raises:
            ModelError: No valid scene after a few attempts.
        """
        said = {
            line_key(e.text)
            for i, scene in enumerate(draft.scenes)
            if scene is not None and i != index
            for e in scene.body
            if e.type == "dialogue"
        }
        problems: list[str] = []
        for attempt in range(ITEM_ATTEMPTS):
            raw = self.raw_scene(draft, index, attempt)
            clean, _ = clean_scene(raw, draft.cast_names, set(said))
            body = clean.to_elements()
            problems = scene_problems(draft.outline[index], body)
            if not problems:
                return WrittenScene(body, raw)
        raise ModelError(f"scene {index + 1} did not come out as valid Fountain: {problems[0]}")

    # -- the draft as a whole --------------------------------------------------------------------

    def regenerate(
        self,
        draft: Draft,
        item: str,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> Draft:
        """Rewrite one item and keep everything else.

        Args:
            draft: The current draft.
            item: ``"title"``, ``"cast"`` (all), ``"cast:I"``, ``"outline"`` (all), ``"outline:I"``
                or ``"scene:I"`` (0-based I).
            on_progress: Gets the item's text as the model writes it (``Progress.text``).
            stop: Set it to abandon the item at once; the draft is then returned unchanged.

        Returns:
            A new draft; the item's version goes up by one, so its seed changes.
        """
        start = time.perf_counter()
        progress = Progress(0, 1, f"rewriting {_item_label(item)}…", preview=draft)
        if should_stop(progress, on_progress, stop):
            return draft
        self._live.on_text = _text_reporter(progress, on_progress, stop, start)
        try:
            return self._regenerate(draft, item)
        except _ItemStopped:
            return draft
        finally:
            self._live.on_text = None

    def _regenerate(self, draft: Draft, item: str) -> Draft:
        level, _, number = item.partition(":")
        if level not in ("title", "cast", "outline", "scene") or (number and not number.isdigit()):
            raise InputError(
                f"unknown draft item {item!r}; use title, cast, cast:I, outline, outline:I, scene:I"
            )
        versions = {**draft.versions, item: draft.versions.get(item, 0) + 1}
        bumped = draft.replace(versions=versions, model=self.lm.model_name)
        index = int(number) if number else None
        if level == "title":
            return bumped.replace(title=self.title(bumped))
        if level == "cast" and index is None:
            return bumped.replace(cast=self.cast(bumped))
        if level == "outline" and index is None:
            outline = self.outline(bumped)
            return bumped.replace(outline=outline, scenes=(None,) * len(outline))
        sizes = {"cast": len(draft.cast), "outline": len(draft.outline), "scene": len(draft.outline)}
        if index is None or not 0 <= index < sizes[level]:
            raise InputError(f"{item!r} is out of range: the draft has {sizes[level]} {level} items")
        if level == "cast":
            cast = list(draft.cast)
            cast[index] = self.cast_member(bumped, index)
            return bumped.replace(cast=tuple(cast))
        if level == "outline":
            outline = list(draft.outline)
            outline[index] = self.scene_plan(bumped, index)
            scenes = list(_padded(draft))
            scenes[index] = None  # its old text no longer matches the new plan
            return bumped.replace(outline=tuple(outline), scenes=tuple(scenes))
        scenes = list(_padded(draft))
        scenes[index] = self.scene(bumped, index)
        return bumped.replace(scenes=tuple(scenes))

    def write(
        self,
        draft_or_settings: Draft | DraftSettings,
        steps: Sequence[Step] = STEPS,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> Draft:
        """Write every missing item of the given steps, top level first.

        Items already present are kept (so this also continues a stopped draft). After each item,
        ``on_progress`` gets a `Progress` whose ``preview`` is the draft so far; returning False (or
        setting ``stop``) ends the work with that partial draft. While an item is written, it also
        gets the item's text as the model writes it (``Progress.text``, token by token), and a stop
        abandons that item at once rather than after it (a scene can take the model many seconds).

        Args:
            draft_or_settings: A draft to complete, or settings to start a new one.
            steps: Which levels to write (``title``, ``cast``, ``outline``, ``scenes``).
            on_progress: Progress callback.
            stop: Stop event.

        Returns:
            The draft, complete for the requested steps unless stopped.
        """
        draft = draft_or_settings if isinstance(draft_or_settings, Draft) else Draft(draft_or_settings)
        draft = draft.replace(model=self.lm.model_name)
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise InputError(f"unknown steps {unknown}; use {list(STEPS)}")
        start = time.perf_counter()
        tasks = self._plan_tasks(draft, steps)
        for done, (label, task) in enumerate(tasks):
            progress = Progress(
                done, len(tasks), f"writing {label}…", preview=draft, elapsed_s=time.perf_counter() - start
            )
            if should_stop(progress, on_progress, stop):
                return draft
            self._live.on_text = _text_reporter(progress, on_progress, stop, start)
            try:
                draft = task(draft)
            except _ItemStopped:
                return draft  # the items written before this one
            finally:
                self._live.on_text = None
        should_stop(
            Progress(len(tasks), len(tasks), "done", preview=draft, elapsed_s=time.perf_counter() - start),
            on_progress,
            stop,
        )
        return draft

    def _plan_tasks(self, draft: Draft, steps: Sequence[Step]) -> list[tuple[str, Any]]:
        """The items to write, in order; later items read what earlier ones wrote."""
        tasks: list[tuple[str, Any]] = []
        if "title" in steps and not draft.title:
            tasks.append(("the title", lambda d: d.replace(title=self.title(d))))
        if "cast" in steps and not draft.cast:
            tasks.append(("the characters", lambda d: d.replace(cast=self.cast(d))))
        if "outline" in steps and not draft.outline:
            tasks.append(("the outline", lambda d: _with_outline(d, self.outline(d))))
        if "scenes" in steps:
            count = len(draft.outline) if draft.outline else draft.settings.scenes
            padded = _padded(draft)
            for index in range(count):
                if index < len(padded) and padded[index] is not None:
                    continue
                tasks.append(
                    (f"scene {index + 1} of {count}", lambda d, i=index: _with_scene(d, i, self.scene(d, i)))
                )
        return tasks


def _item_label(item: str) -> str:
    level, _, number = item.partition(":")
    if not number.isdigit():
        return {"cast": "the characters"}.get(level, f"the {level}")
    return {"cast": "character", "outline": "scene plan"}.get(level, level) + f" {int(number) + 1}"


class _ItemStopped(Exception):
    """Raised from the text callback when a stop arrives while the model writes an item."""


def _text_reporter(
    progress: Progress,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
    start: float,
) -> Callable[[str], None]:
    """The ``on_text`` callback of one item: reports the text so far and abandons the item on a stop."""

    def on_text(text: str) -> None:
        report = dataclasses.replace(progress, text=text, elapsed_s=time.perf_counter() - start)
        if should_stop(report, on_progress, stop):
            raise _ItemStopped

    return on_text


def _padded(draft: Draft) -> tuple[WrittenScene | None, ...]:
    n = len(draft.outline)
    return tuple(draft.scenes[:n]) + (None,) * max(0, n - len(draft.scenes))


def _with_outline(draft: Draft, outline: tuple[ScenePlan, ...]) -> Draft:
    return draft.replace(outline=outline, scenes=(None,) * len(outline))


def _with_scene(draft: Draft, index: int, scene: WrittenScene) -> Draft:
    scenes = list(_padded(draft))
    scenes[index] = scene
    return draft.replace(scenes=tuple(scenes))


def _plan(raw: dict[str, Any]) -> ScenePlan:
    location = " ".join(raw["location"].split()).strip(" -.\"'") or "SOMEWHERE"
    purpose = " ".join(raw["purpose"].split())
    return ScenePlan(raw["setting"], location, raw["time"], purpose)


def _unique_members(raw: Sequence[dict[str, str]]) -> tuple[CastMember, ...]:
    """Cast members with tidy, distinct first names (a duplicate is dropped)."""
    members, seen = [], set()
    for item in raw:
        words = "".join(c if c.isalpha() or c in " '-" else " " for c in item["name"]).split()
        name = " ".join(w.capitalize() if w.isupper() or w.islower() else w for w in words)[:NAME_CHARS]
        key = line_key(name.split()[0]) if name else ""
        if not key or key in seen:
            continue
        seen.add(key)
        members.append(CastMember(name, " ".join(item["description"].split())))
    return tuple(members)
