"""The levels of a screenplay draft as typed structures, from logline to scenes.

Each level is what one `generate_json` call produces (see `pipeline`): a title, a cast, an outline
of scene plans, and each scene's action and dialogue. A written scene is kept twice: ``raw``, as the
model gave it, and ``body``, the cleaned Fountain elements that the writer sees, edits and exports.

A draft round-trips through JSON (`Draft.to_dict` / `Draft.from_dict`), which is how the suite stores
it in a workspace run and reopens it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from domains.entertainment.scripts.fountain import Element, Screenplay, parse, write
from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "MAX_LOGLINE_CHARS",
    "TIMES_OF_DAY",
    "CastMember",
    "Draft",
    "DraftSettings",
    "ScenePlan",
    "SceneText",
    "SpeechLine",
    "WrittenScene",
    "scene_body_from_fountain",
]

MAX_LOGLINE_CHARS = 600
MAX_CONTROL_CHARS = 40
MAX_SCENES = 12
Setting = Literal["INT.", "EXT."]
TimeOfDay = Literal["DAY", "NIGHT", "MORNING", "EVENING", "CONTINUOUS"]
TIMES_OF_DAY: tuple[str, ...] = get_args(TimeOfDay)


def _text(value: object, name: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {type(value).__name__}")
    value = " ".join(value.split())
    if required and not value:
        raise InputError(f"the {name} is empty; write one sentence")
    if len(value) > limit:
        raise ResourceLimitError(
            f"the {name} is {len(value):,} characters; the limit is {limit:,}. Shorten it."
        )
    return value


@dataclass(frozen=True)
class DraftSettings:
    """What the writer asks for.

    Attributes:
        logline: One or two sentences: who wants what, and what stands in the way.
        genre: e.g. ``"drama"``, ``"comedy"``, ``"thriller"``.
        tone: e.g. ``"warm"``, ``"dark"``, ``"playful"``.
        audience: e.g. ``"general"``, ``"family"``, ``"adult"``.
        scenes: Number of scenes in the outline.
        cast_size: Number of main characters.
        lines_per_scene: Most dialogue lines in one scene (at least 2 are asked for).
        seed: Same seed, model and settings give the same draft.
        temperature: Sampling temperature for every level.
        repeat_penalty: Discourages the small model's loops (> 1).
    """

    logline: str
    genre: str = "drama"
    tone: str = "warm"
    audience: str = "general"
    scenes: int = 5
    cast_size: int = 3
    lines_per_scene: int = 6
    seed: int = 0
    temperature: float = 0.8
    repeat_penalty: float = 1.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "logline", _text(self.logline, "logline", MAX_LOGLINE_CHARS))
        for name in ("genre", "tone", "audience"):
            object.__setattr__(self, name, _text(getattr(self, name), name, MAX_CONTROL_CHARS))
        if not 1 <= self.scenes <= MAX_SCENES:
            raise InputError(f"scenes must be between 1 and {MAX_SCENES}, not {self.scenes}")
        if not 1 <= self.cast_size <= 6:
            raise InputError(f"cast_size must be between 1 and 6, not {self.cast_size}")
        if not 2 <= self.lines_per_scene <= 8:
            raise InputError(f"lines_per_scene must be between 2 and 8, not {self.lines_per_scene}")
        if not 0 <= self.seed < 2**31:
            raise InputError(f"seed must be between 0 and 2**31 - 1, not {self.seed}")
        if not 0 <= self.temperature <= 1.5:
            raise InputError(f"temperature must be between 0 and 1.5, not {self.temperature}")
        if not 1 <= self.repeat_penalty <= 2:
            raise InputError(f"repeat_penalty must be between 1 and 2, not {self.repeat_penalty}")


@dataclass(frozen=True)
class CastMember:
    name: str
    description: str


@dataclass(frozen=True)
class ScenePlan:
    """One outline entry: where and when a scene happens and what it is for."""

    setting: Setting
    location: str
    time: TimeOfDay
    purpose: str

    @property
    def heading(self) -> str:
        """The scene heading, e.g. ``INT. HARBOUR OFFICE - NIGHT``."""
        location = re.sub(r"\s+", " ", self.location).strip(" -.").upper() or "UNKNOWN"
        return f"{self.setting} {location} - {self.time}"


@dataclass(frozen=True)
class SpeechLine:
    character: str
    line: str
    parenthetical: str = ""


@dataclass(frozen=True)
class SceneText:
    """A scene as the model writes it: an opening action, dialogue lines, a closing action."""

    action: str
    lines: tuple[SpeechLine, ...]
    closing: str = ""

    def to_elements(self) -> tuple[Element, ...]:
        """The scene body as Fountain elements (action, cue, parenthetical, dialogue, ...)."""
        body: list[Element] = []
        if self.action.strip():
            body.append(Element("action", self.action.strip()))
        for speech in self.lines:
            body.append(Element("character", speech.character.upper()))
            if speech.parenthetical.strip():
                body.append(Element("parenthetical", speech.parenthetical.strip()))
            body.append(Element("dialogue", speech.line.strip()))
        if self.closing.strip():
            body.append(Element("action", self.closing.strip()))
        return tuple(body)


@dataclass(frozen=True)
class WrittenScene:
    """A written scene: the Fountain body the writer sees (cleaned, maybe edited) and the model's raw
    output (None once the writer replaced the text by hand)."""

    body: tuple[Element, ...]
    raw: SceneText | None = None
    edited: bool = False


def scene_body_from_fountain(text: str) -> tuple[Element, ...]:
    """Parse a scene body the writer typed (no heading: headings are edited in the outline).

    Raises:
        InputError: It contains a scene heading or a title page.
    """
    play = parse(text)
    if play.title_page:
        raise InputError("a scene cannot hold a title page; remove the 'Key: value' lines at the top")
    if any(e.type == "scene_heading" for e in play.elements):
        raise InputError("a scene body cannot hold a scene heading; change the heading in the outline step")
    return tuple(play.elements)


@dataclass(frozen=True)
class Draft:
    """A screenplay draft at any stage: empty levels are simply not written yet.

    Attributes:
        settings: What was asked for.
        title: The title ('' until written).
        cast: Main characters.
        outline: One plan per scene.
        scenes: One entry per outline entry; None until written.
        versions: How many times each item (``"title"``, ``"cast:1"``, ``"scene:0"``, ...) was
            regenerated; part of its seed, so a regeneration differs yet stays reproducible.
        model: The model that wrote it.
    """

    settings: DraftSettings
    title: str = ""
    cast: tuple[CastMember, ...] = ()
    outline: tuple[ScenePlan, ...] = ()
    scenes: tuple[WrittenScene | None, ...] = ()
    versions: Mapping[str, int] = field(default_factory=dict)
    model: str = ""

    def replace(self, **changes: Any) -> Draft:
        return dataclasses.replace(self, **changes)

    @property
    def cast_names(self) -> list[str]:
        return [member.name for member in self.cast]

    @property
    def scenes_written(self) -> int:
        return sum(scene is not None for scene in self.scenes)

    @property
    def complete(self) -> bool:
        return bool(self.title and self.cast and self.outline) and self.scenes_written == len(self.outline)

    def to_screenplay(self) -> Screenplay:
        """The draft as a screenplay: a title page, then each outlined scene's heading and body."""
        title_page = {"Title": self.title or "Untitled", "Credit": "Draft by", "Author": "AIGC Script Writer"}
        title_page["Notes"] = self.settings.logline
        elements: list[Element] = []
        for index, plan in enumerate(self.outline):
            elements.append(Element("scene_heading", plan.heading, scene_number=str(index + 1)))
            scene = self.scenes[index] if index < len(self.scenes) else None
            if scene is None:
                elements.append(Element("note", f"Not written yet: {plan.purpose}"))
                continue
            elements.extend(scene.body)
            last = index == len(self.outline) - 1
            elements.append(Element("transition", "FADE OUT." if last else "CUT TO:"))
        return Screenplay(title_page, elements)

    def to_fountain(self) -> str:
        return write(self.to_screenplay())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (see `from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Draft:
        """Rebuild a draft saved by `to_dict` (e.g. from a workspace run).

        Raises:
            InputError: The data is not a draft saved by this suite.
        """
        try:
            scenes = []
            for scene in data.get("scenes", ()):
                if scene is None:
                    scenes.append(None)
                    continue
                raw = scene.get("raw")
                if raw is not None:
                    lines = tuple(SpeechLine(**line) for line in raw["lines"])
                    raw = SceneText(raw["action"], lines, raw.get("closing", ""))
                body = tuple(Element(**element) for element in scene["body"])
                scenes.append(WrittenScene(body, raw, bool(scene.get("edited", False))))
            outline = tuple(ScenePlan(**plan) for plan in data.get("outline", ()))
            if any(p.setting not in get_args(Setting) or p.time not in TIMES_OF_DAY for p in outline):
                raise ValueError("an outline entry has an unknown setting or time of day")
            return cls(
                settings=DraftSettings(**data["settings"]),
                title=str(data.get("title", "")),
                cast=tuple(CastMember(**member) for member in data.get("cast", ())),
                outline=outline,
                scenes=tuple(scenes),
                versions={str(k): int(v) for k, v in dict(data.get("versions", {})).items()},
                model=str(data.get("model", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"this is not a script draft saved by the suite ({exc})") from exc
