"""Hierarchical drafting: levels, seeds, regeneration, stop, clean-up and Fountain validity.

Most tests use `ScriptedGenerator` (a schema-filling test double) so the pipeline logic runs in
milliseconds; the two at the end use the bundled SmolLM2 model on a tiny draft."""

from __future__ import annotations

import itertools
import json
import threading

import pytest

from domains.entertainment.scripts import (
    Draft,
    DraftSettings,
    ScriptWriter,
    parse,
    scene_body_from_fountain,
    validate,
)
from domains.entertainment.scripts.cleanup import repetition
from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.lm import Chunk, TextGenerator, TextStream
from shared_models.progress import Progress
from tests.domains.entertainment.scripted_lm import ScriptedGenerator

LOGLINE = "A retired ferry captain must sail one last night crossing to bring her estranged son home."


def settings(**changes: object) -> DraftSettings:
    return DraftSettings(LOGLINE, **{"scenes": 3, "cast_size": 3, "lines_per_scene": 4, **changes})


def test_full_draft_has_every_level_and_parses_as_fountain() -> None:
    draft = ScriptWriter(ScriptedGenerator()).write(settings())
    assert draft.title and len(draft.cast) == 3 and len(draft.outline) == 3 and draft.complete
    assert len({m.name for m in draft.cast}) == 3
    play = draft.to_screenplay()
    assert validate(play) == []
    assert parse(draft.to_fountain()) == play
    for index, scene in enumerate(play.scenes()):
        assert scene[0].text == draft.outline[index].heading
        kinds = [e.type for e in scene]
        assert "character" in kinds and "dialogue" in kinds
        cues = {e.text for e in scene if e.type == "character"}
        assert cues <= {name.upper() for name in draft.cast_names}


def test_same_seed_same_draft_and_another_seed_differs() -> None:
    first = ScriptWriter(ScriptedGenerator()).write(settings(seed=7))
    again = ScriptWriter(ScriptedGenerator()).write(settings(seed=7))
    other = ScriptWriter(ScriptedGenerator()).write(settings(seed=8))
    assert first.to_fountain() == again.to_fountain()
    assert first.to_fountain() != other.to_fountain()


def test_scene_prompts_carry_the_story_and_cast() -> None:
    lm = ScriptedGenerator()
    draft = ScriptWriter(lm).write(settings(scenes=1))
    scene_prompt = lm.prompts[-1]
    assert LOGLINE in scene_prompt and draft.title in scene_prompt
    assert all(name.upper() in scene_prompt for name in draft.cast_names)
    assert draft.outline[0].purpose in scene_prompt


def test_regenerating_one_item_keeps_the_rest() -> None:
    writer = ScriptWriter(ScriptedGenerator())
    draft = writer.write(settings())
    new = writer.regenerate(draft, "scene:1")
    assert new.versions["scene:1"] == 1
    assert new.scenes[0] == draft.scenes[0] and new.scenes[2] == draft.scenes[2]
    assert new.scenes[1] != draft.scenes[1]
    assert (new.title, new.cast, new.outline) == (draft.title, draft.cast, draft.outline)
    replanned = writer.regenerate(draft, "outline:2")
    assert replanned.outline[:2] == draft.outline[:2] and replanned.scenes[2] is None
    assert writer.write(replanned).scenes[2] is not None  # writing again fills only the gap
    recast = writer.regenerate(draft, "cast:0")
    assert recast.cast[1:] == draft.cast[1:]
    assert recast.cast[0].name not in {m.name for m in draft.cast[1:]}
    assert writer.regenerate(draft, "title").versions == {"title": 1}


@pytest.mark.parametrize("item", ["plot", "scene:9", "cast:x", "scene"])
def test_unknown_items_are_refused(item: str) -> None:
    writer = ScriptWriter(ScriptedGenerator())
    with pytest.raises(InputError):
        writer.regenerate(writer.write(settings(scenes=1)), item)


def test_steps_run_in_order_and_stop_keeps_a_partial_draft() -> None:
    writer = ScriptWriter(ScriptedGenerator())
    top = writer.write(settings(), steps=("title", "cast"))
    assert top.title and top.cast and not top.outline
    stop = threading.Event()
    seen: list[str] = []

    def on_progress(progress: Progress) -> None:
        if progress.text:
            return  # a report from inside an item (its text so far)
        seen.append(progress.message)
        if progress.message.startswith("writing scene 2"):
            stop.set()

    partial = writer.write(top, on_progress=on_progress, stop=stop)
    assert seen[:2] == ["writing the outline…", "writing scene 1 of 3…"]
    assert partial.scenes_written == 1 and not partial.complete
    assert writer.write(partial).complete


def test_clean_up_lowers_repetition_and_keeps_the_cast() -> None:
    lm = ScriptedGenerator(repeat_share=0.6)
    writer = ScriptWriter(lm)
    draft = writer.write(settings(scenes=4, lines_per_scene=8, seed=3))
    raw = [s.line for scene in draft.scenes for s in scene.raw.lines]  # type: ignore[union-attr]
    clean = [e.text for scene in draft.scenes for e in scene.body if e.type == "dialogue"]  # type: ignore[union-attr]
    before, after = repetition(raw), repetition(clean)
    assert before.repeated_line_share > 0.2
    assert after.repeated_line_share == 0
    assert after.distinct_2 > before.distinct_2


def test_edited_scene_body_is_parsed_and_checked() -> None:
    body = scene_body_from_fountain("She enters.\n\nANNA\n(softly)\nHello.\n")
    assert [e.type for e in body] == ["action", "character", "parenthetical", "dialogue"]
    with pytest.raises(InputError, match="heading"):
        scene_body_from_fountain("INT. SHIP - NIGHT\n\nWind.\n")


def test_draft_round_trips_through_json() -> None:
    draft = ScriptWriter(ScriptedGenerator()).write(settings(scenes=2))
    assert Draft.from_dict(draft.to_dict()) == draft
    with pytest.raises(InputError, match="not a script draft"):
        Draft.from_dict({"settings": {"logline": "x"}, "outline": [{"setting": "IN"}]})


@pytest.mark.parametrize(
    ("logline", "error"),
    [("", InputError), ("   ", InputError), ("x" * 601, ResourceLimitError), (42, InputError)],
)
def test_bad_loglines_are_refused(logline: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        DraftSettings(logline)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [{"scenes": 0}, {"scenes": 13}, {"cast_size": 7}, {"genre": ""}, {"lines_per_scene": 1}, {"seed": -1}],
)
def test_bad_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InputError):
        settings(**changes)


# -- the bundled model ------------------------------------------------------------------------------

TINY = {"scenes": 1, "cast_size": 2, "lines_per_scene": 2}


def test_real_model_writes_a_valid_tiny_draft_reproducibly(local_lm: TextGenerator) -> None:
    writer = ScriptWriter(local_lm)
    draft = writer.write(settings(seed=11, **TINY))
    assert draft.complete and validate(draft.to_screenplay()) == []
    cues = {e.text for e in draft.to_screenplay().elements if e.type == "character"}
    assert cues and cues <= {n.upper() for n in draft.cast_names}
    # The whole-draft determinism is tested above with the double (same item seeds, same answers);
    # here the real model shows that an item's seed fixes its answer (a full second draft would
    # double the cost of this test).
    assert writer.title(draft.replace(title="")) == draft.title
    assert writer.scene(draft, 0) == draft.scenes[0]


class PieceByPieceGenerator(ScriptedGenerator):
    """The scripted answers, streamed in 8-character pieces as a real model streams tokens."""

    def _open_stream(self, messages, options, schema):  # type: ignore[no-untyped-def]
        whole = super()._open_stream(messages, options, schema).collect().text
        pieces = [whole[i : i + 8] for i in range(0, len(whole), 8)]
        chunks = iter([Chunk(p, tokens=1) for p in pieces[:-1]] + [Chunk(pieces[-1], 1, "stop")])
        return TextStream(chunks, backend="test", model=self.model_name, prompt_tokens=1)


def test_each_item_streams_its_text_while_it_is_written() -> None:
    seen: dict[str, list[str]] = {}

    def on_progress(progress: Progress) -> None:
        if progress.text:
            seen.setdefault(progress.message, []).append(progress.text)

    draft = ScriptWriter(PieceByPieceGenerator()).write(settings(scenes=1), on_progress=on_progress)
    assert draft.complete
    labels = {"title", "characters", "outline", "scene 1 of 1"}
    assert set(seen) == {f"writing {'' if label.startswith('scene') else 'the '}{label}…" for label in labels}
    for texts in seen.values():
        assert len(texts) >= 3 and all(b.startswith(a) for a, b in itertools.pairwise(texts))
        json.loads(texts[-1])  # the last report is the item's whole answer


def test_a_stop_while_an_item_is_written_abandons_it_at_once() -> None:
    writer = ScriptWriter(PieceByPieceGenerator())
    stop = threading.Event()
    pieces_after_stop: list[str] = []

    def on_progress(progress: Progress) -> None:
        if stop.is_set():
            pieces_after_stop.append(progress.text)
        elif progress.message.startswith("writing scene 2") and progress.text:
            stop.set()  # the model has begun scene 2: a scene can take it many seconds

    partial = writer.write(settings(), on_progress=on_progress, stop=stop)
    assert partial.scenes_written == 1 and partial.outline and not partial.complete
    assert pieces_after_stop == []  # not one more piece was read after the stop
    assert writer.write(partial).complete  # and writing again continues from there


def test_a_stopped_regeneration_leaves_the_draft_as_it_was() -> None:
    writer = ScriptWriter(PieceByPieceGenerator())
    draft = writer.write(settings(scenes=2))
    stop = threading.Event()
    seen: list[str] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress.message)
        if progress.text:
            stop.set()

    assert writer.regenerate(draft, "scene:1", on_progress, stop) == draft
    assert seen[0] == "rewriting scene 2…"
    assert writer.regenerate(draft, "cast:0", lambda p: seen.append(p.message)) != draft
    assert seen[-1] == "rewriting character 1…"
