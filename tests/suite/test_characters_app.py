"""AppTest of the Character Design page: generate (training on first use), favourites, tools, card."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import suite.resources
from domains.entertainment.characters.models import CharacterModelSpec, partial_steps
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/character_design/page.py"
PAGE_ID = "character-design"
GENERATE_TIMEOUT_S = 300  # a 50-step first-use training on 2 shared cores


class ScriptedLM:
    """A stand-in language model (the real one is exercised by the browser test and the card tests)."""

    model_name = "scripted"

    def describe(self) -> str:
        return "scripted (test)"

    def generate_json(
        self,
        schema: Mapping[str, Any],
        prompt: str,
        options: Any = None,
        *,
        system: str | None = None,
    ) -> Any:
        return {
            "name": "Odo Quill",
            "role": "Archivist",
            "backstory": "Odo keeps his purple hair short and his tunic clean.",
            "personality_traits": ["precise", "shy"],
            "signature_line": "Every page has a place.",
        }


def _generate(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception
    app.selectbox(key=f"{PAGE_ID}.attr.hair").set_value("red")
    app.selectbox(key=f"{PAGE_ID}.attr.outfit").set_value("armour")
    app.slider(key=f"{PAGE_ID}.n").set_value(8)
    app.slider(key=f"{PAGE_ID}.steps.cvae").set_value(50)
    app.button(key=f"{PAGE_ID}.generate").click()
    return run_until_jobs_end(app, GENERATE_TIMEOUT_S)


def test_generate_pick_vary_blend_and_write_a_card(
    app: AppTest, aigc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suite.resources, "get_text_generator", lambda config=None: ScriptedLM())
    _generate(app)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Run 1: 8 characters (CVAE)"]
    grid = [img for img in app.image if any(c.startswith("#") for c in img.captions)]
    assert len(grid) == 8
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "characters.generate" and record.status == "done"
    assert record.params["chosen"] == {"hair": "red", "outfit": "armour"}
    assert record.metrics["generator_trained_now"] is True
    rows = json.loads(Workspace(aigc_home).artifact_path(1, "characters.json").read_text())
    assert len(rows) == 8 and all(r["attributes"]["hair"] == "red" for r in rows)

    app.checkbox(key=f"{PAGE_ID}.fav.2").check()
    app.checkbox(key=f"{PAGE_ID}.fav.5").check().run()
    assert app.selectbox(key=f"{PAGE_ID}.chosen").options == ["#3", "#6"]
    labels = {d.proto.label for d in app.get("download_button")}
    assert {"Sprite sheet (favourites, PNG)", "Character PNGs (favourites, zip)"} <= labels

    app.button(key=f"{PAGE_ID}.vary").click().run()
    assert any("Variations of #3" in c for img in app.image for c in img.captions)
    app.button(key=f"{PAGE_ID}.blend").click().run()
    assert any(c.startswith("From #3 to #2") for img in app.image for c in img.captions)

    app.text_area(key=f"{PAGE_ID}.brief").input("a shy archivist in a floating library")
    app.button(key=f"{PAGE_ID}.card").click().run()
    assert not app.exception, app.exception
    assert "Odo Quill" in [s.value for s in app.subheader]
    assert any("red hair" in m.value for m in app.markdown)  # corrected from "purple hair"
    assert any("Corrected to match the picture" in c.value for c in app.caption)
    labels = {d.proto.label for d in app.get("download_button")}
    assert {"Card (JSON)", "Pitch sheet (HTML)"} <= labels
    card_run = Workspace(aigc_home).get_run(2)
    assert card_run.capability == "characters.card" and {"card.json", "pitch.html"} <= set(card_run.artifacts)


def test_empty_brief_shows_an_error_and_records_nothing(
    app: AppTest, aigc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suite.resources, "get_text_generator", lambda config=None: ScriptedLM())
    _generate(app)
    app.button(key=f"{PAGE_ID}.card").click().run()
    assert any("the brief is empty" in e.value for e in app.error)
    workspace = Workspace(aigc_home)
    assert [r.capability for r in workspace.list_runs()] == ["characters.generate"]

    fresh = AppTest.from_file(app._script_path, default_timeout=60)
    fresh.switch_page(PAGE).run()
    assert "run 1 · 8 × red, armour" in fresh.selectbox(key=f"{PAGE_ID}.earlier").options[0]
    fresh.button(key=f"{PAGE_ID}.open").click().run()
    assert not fresh.exception
    assert [s.value for s in fresh.subheader] == ["Run 1: 8 characters (CVAE)"]
    assert workspace.count_runs() == 1  # opened, not generated again


def test_page_without_characters_invites_to_generate(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("press **Generate**" in i.value for i in app.info)


def test_a_reloaded_page_finds_the_training_and_stop_keeps_its_progress(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.slider(key=f"{PAGE_ID}.steps.cvae").set_value(6000)
    app.button(key=f"{PAGE_ID}.generate").click().run()
    assert not app.exception, app.exception
    assert app.button(key=f"{PAGE_ID}.generate").disabled  # one generation at a time per page
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key=f"{PAGE_ID}.generate").disabled
    _wait_for_steps()
    reloaded.button(key=f"{PAGE_ID}.stop").click().run()
    run_until_jobs_end(reloaded, GENERATE_TIMEOUT_S)
    assert not reloaded.exception, reloaded.exception
    assert any("Generation was stopped" in w.value for w in reloaded.warning)
    assert any("its progress is kept" in c.value for c in reloaded.caption)
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    kept = partial_steps(CharacterModelSpec(model="cvae", steps=6000), aigc_home / "models")
    assert kept >= 1 and f"stopped at step {kept} of 6000" in (record.error or "")


def _wait_for_steps(timeout: float = GENERATE_TIMEOUT_S) -> None:
    """Until the first-use training has reported a step (a stop then has progress to keep)."""
    from suite.jobs import JobStore

    store = JobStore(Workspace.from_env())
    deadline = time.monotonic() + timeout
    while not any(job.step > 0 for job in store.list(statuses=["running"])):
        assert time.monotonic() < deadline, "the training reported no step"
        time.sleep(0.2)
