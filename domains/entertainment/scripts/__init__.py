"""Script writing: Fountain screenplays, hierarchical drafting with the language core, layout, and a
small GPT trained on your own scripts.

Example:
    >>> from domains.entertainment.scripts import DraftSettings, ScriptWriter
    >>> draft = ScriptWriter(lm).write(DraftSettings("Two rivals share a lighthouse.", scenes=3))
    >>> draft.to_fountain()
"""

from __future__ import annotations

from domains.entertainment.scripts.cleanup import CleanupCounts, Repetition, clean_scene, repetition
from domains.entertainment.scripts.draft import (
    CastMember,
    Draft,
    DraftSettings,
    ScenePlan,
    SceneText,
    SpeechLine,
    WrittenScene,
    scene_body_from_fountain,
)
from domains.entertainment.scripts.fountain import Element, Screenplay, parse, validate, write
from domains.entertainment.scripts.pipeline import STEPS, ScriptWriter, Step, scene_problems
from domains.entertainment.scripts.render import to_html, to_pdf

__all__ = [
    "STEPS",
    "CastMember",
    "CleanupCounts",
    "Draft",
    "DraftSettings",
    "Element",
    "Repetition",
    "ScenePlan",
    "SceneText",
    "Screenplay",
    "ScriptWriter",
    "SpeechLine",
    "Step",
    "WrittenScene",
    "clean_scene",
    "parse",
    "repetition",
    "scene_body_from_fountain",
    "scene_problems",
    "to_html",
    "to_pdf",
    "validate",
    "write",
]
