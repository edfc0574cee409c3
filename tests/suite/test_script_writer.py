"""Script Writer page (AppTest). The language model is the schema-filling test double, served as an
OpenAI-compatible endpoint that the page's job workers are pointed at, so the page logic runs in
seconds; the browser test drives the same page with the bundled SmolLM2 model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.entertainment.scripts import Draft, validate
from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end
from tests.suite.scripted_endpoint import MODEL, base_url, scripted_endpoint

PAGE = "capabilities/script_writer/page.py"
KEY = "script-writer"
TIMEOUT_S = 120


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The test double behind an endpoint; the page and its job workers read it from the settings."""
    for name in ("AIGC_LLM_BACKEND", "AIGC_LLM_GGUF", "AIGC_LLM_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    with scripted_endpoint(repeat_share=0.3) as server:
        monkeypatch.setenv("AIGC_LLM_BASE_URL", base_url(server))
        monkeypatch.setenv("AIGC_LLM_MODEL", MODEL)
        yield server


@pytest.fixture
def writer_page(app: AppTest, aigc_home: Path, endpoint: object) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _draft(app: AppTest) -> Draft:
    return app.session_state[KEY]["draft"]


def _write_whole_draft(app: AppTest, scenes: int = 2) -> AppTest:
    app.number_input(key=f"{KEY}.scenes").set_value(scenes)
    app.number_input(key=f"{KEY}.lines").set_value(3)
    app.button(key=f"{KEY}.write_all").click()
    return run_until_jobs_end(app, TIMEOUT_S)


def test_whole_draft_is_written_recorded_and_downloadable(writer_page: AppTest, aigc_home: Path) -> None:
    app = _write_whole_draft(writer_page)
    assert not app.exception, app.exception
    draft = _draft(app)
    assert draft.complete and len(draft.outline) == 2 and validate(draft.to_screenplay()) == []
    subheaders = [s.value for s in app.subheader]
    assert subheaders == ["1 · Logline", "2 · Title and characters", "3 · Outline", "4 · Scenes"]
    assert app.text_input(key=f"{KEY}.title.1").value == draft.title
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Fountain", "PDF", "HTML"} <= downloads
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "script.draft" and record.status == "done"
    assert {"draft.json", "draft.fountain", "draft.html", "draft.pdf"} <= set(record.artifacts)
    assert record.metrics["scenes_valid"] == 2 and record.metrics["repeated_lines_clean"] == 0


def test_edit_regenerate_save_and_reopen(writer_page: AppTest, aigc_home: Path) -> None:
    app = _write_whole_draft(writer_page)
    first = _draft(app)
    app.text_input(key=f"{KEY}.title.1").set_value("Harbour Lights")
    app.text_area(key=f"{KEY}.scene.0.1").set_value("Waves.\n\nANNA\nWe go tonight.\n")
    app.run()
    edited = _draft(app)
    assert edited.title == "Harbour Lights" and edited.scenes[0].edited
    assert [e.text for e in edited.scenes[0].body] == ["Waves.", "ANNA", "We go tonight."]

    app.button(key=f"{KEY}.regen_scene.1").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    regenerated = _draft(app)
    assert regenerated.scenes[0] == edited.scenes[0] and regenerated.title == "Harbour Lights"
    assert regenerated.scenes[1] != first.scenes[1] and regenerated.versions == {"scene:1": 1}

    app.button(key=f"{KEY}.save").click()
    app.run()
    runs = Workspace(aigc_home).list_runs(capability="script.draft")
    assert [r.params["action"] for r in runs] == [
        "edit",
        "regenerate scene:1",
        "write title+cast+outline+scenes",
    ]

    fresh = AppTest.from_file(app._script_path, default_timeout=60)
    fresh.switch_page(PAGE).run()
    fresh.selectbox(key=f"{KEY}.reopen").set_value(fresh.selectbox(key=f"{KEY}.reopen").options[0])
    fresh.button(key=f"{KEY}.open").click().run()
    assert not fresh.exception, fresh.exception
    assert fresh.session_state[KEY]["draft"] == regenerated


def test_empty_or_huge_logline_is_refused_before_any_work(writer_page: AppTest, aigc_home: Path) -> None:
    writer_page.text_area(key=f"{KEY}.logline").set_value("   ").run()
    assert any("logline is empty" in e.value for e in writer_page.error)
    assert writer_page.button(key=f"{KEY}.write_all").disabled
    assert Workspace(aigc_home).count_runs() == 0


def test_voice_tab_refuses_a_binary_corpus(writer_page: AppTest, aigc_home: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4
    writer_page.file_uploader(key=f"{KEY}.voice_corpus").set_value(("scripts.txt", png, "text/plain")).run()
    assert any("binary" in e.value for e in writer_page.error)
    assert writer_page.get("button") and not [b for b in writer_page.button if b.key == f"{KEY}.voice_train"]
    assert Workspace(aigc_home).count_runs() == 0


def test_voice_trains_on_scripts_and_continues_the_draft_scene(writer_page: AppTest, aigc_home: Path) -> None:
    from tests.domains.entertainment.test_voice import CORPUS

    app = writer_page
    app.file_uploader(key=f"{KEY}.voice_corpus").set_value(("mine.fountain", CORPUS.encode(), "text/plain"))
    app.selectbox(key=f"{KEY}.voice_preset").set_value("tiny")
    app.slider(key=f"{KEY}.voice_seconds").set_value(5).run()
    assert any("80 scene headings" in c.value for c in app.caption)
    app.button(key=f"{KEY}.voice_train").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert any("validation loss" in s.value for s in app.success)
    app.number_input(key=f"{KEY}.voice_chars").set_value(60)
    app.button(key=f"{KEY}.voice_continue").click().run()
    text = app.code[0].value
    prefix = "INT. KITCHEN - NIGHT\n\nANNA\n"
    # 60 characters are sampled; the shown text loses trailing whitespace, which a short run may sample.
    assert text.startswith(prefix) and len(prefix) + 50 <= len(text) <= len(prefix) + 60
    runs = Workspace(aigc_home).list_runs(capability="script.voice")
    assert len(runs) == 1 and runs[0].artifacts == ["model"] and runs[0].params["scene_headings"] == 80


def _wait_for_step(aigc_home: Path, step: int, timeout: float = TIMEOUT_S) -> None:
    """Until the running job has written ``step`` items."""
    store = JobStore(Workspace(aigc_home))
    deadline = time.monotonic() + timeout
    while not any(r.step >= step for r in store.list(statuses=["running"])):
        assert time.monotonic() < deadline, f"no job reached step {step} in {timeout} s"
        time.sleep(0.2)


def test_a_reloaded_page_finds_the_running_draft_and_a_stop_keeps_what_is_written(
    writer_page: AppTest, endpoint: object, aigc_home: Path
) -> None:
    endpoint.delay_s = 0.1  # type: ignore[attr-defined]  # a 12-scene draft now takes minutes
    app = writer_page
    app.number_input(key=f"{KEY}.scenes").set_value(12)
    app.button(key=f"{KEY}.write_all").click().run()
    assert app.button(key=f"{KEY}.write_all").disabled  # one job at a time per page
    _wait_for_step(aigc_home, 2)  # the title and the characters are written
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key=f"{KEY}.write_all").disabled
    reloaded.button(key=f"{KEY}.stop").click().run()
    run_until_jobs_end(reloaded, TIMEOUT_S)
    assert any("Writing was stopped" in w.value for w in reloaded.warning), reloaded.warning
    kept = reloaded.session_state[KEY]["draft"]
    assert kept.title and len(kept.cast) == 3 and kept.scenes_written < 12  # written before the stop
    assert [s.value for s in reloaded.subheader][:2] == ["1 · Logline", "2 · Title and characters"]
    record = Workspace(aigc_home).list_runs(capability="script.draft")[0]
    assert record.status == "cancelled" and record.job_id is not None
    assert "draft.json" in record.artifacts  # a cooperative stop: the worker saved the draft itself
    run_until_jobs_end(app, TIMEOUT_S)
    assert app.session_state[KEY]["draft"] == kept  # the first tab gets the same draft


def test_a_terminated_write_still_holds_the_items_written(aigc_home: Path) -> None:
    """A worker ended by SIGTERM (a KeyboardInterrupt in it) mid-item: the run keeps the draft so far."""
    from domains.entertainment.scripts import DraftSettings, ScriptWriter
    from suite.capabilities.script_writer.runner import load_draft, write_and_record
    from tests.domains.entertainment.scripted_lm import ScriptedGenerator

    class TerminatedOnTheOutline(ScriptedGenerator):
        def _open_stream(self, messages, options, schema):  # type: ignore[no-untyped-def]
            if schema and "scenes" in schema.get("properties", {}):
                raise KeyboardInterrupt("stopped by the user (the work did not stop at its own pace)")
            return super()._open_stream(messages, options, schema)

    workspace = Workspace(aigc_home)
    with pytest.raises(KeyboardInterrupt):
        write_and_record(
            workspace,
            ScriptWriter(TerminatedOnTheOutline()),
            DraftSettings("A cook hides a recipe."),
            ("title", "cast", "outline"),
        )
    record = workspace.list_runs(capability="script.draft")[0]
    assert record.status == "cancelled" and record.artifacts == ["draft.json"]
    kept = load_draft(workspace, record.id)
    assert kept.title and len(kept.cast) == 3 and not kept.outline


def test_a_voice_training_is_found_after_a_reload_and_a_stop_keeps_the_model(
    writer_page: AppTest, aigc_home: Path
) -> None:
    from tests.domains.entertainment.test_voice import CORPUS

    app = writer_page
    app.file_uploader(key=f"{KEY}.voice_corpus").set_value(("mine.fountain", CORPUS.encode(), "text/plain"))
    app.selectbox(key=f"{KEY}.voice_preset").set_value("tiny")
    app.slider(key=f"{KEY}.voice_seconds").set_value(600).run()
    app.button(key=f"{KEY}.voice_train").click().run()
    _wait_for_step(aigc_home, 10)  # some training steps are done
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()
    assert reloaded.button(key=f"{KEY}.write_all").disabled  # one job at a time per page
    reloaded.button(key=f"{KEY}.stop").click().run()
    run_until_jobs_end(reloaded, TIMEOUT_S)
    assert any("Training the voice was stopped" in w.value for w in reloaded.warning), reloaded.warning
    record = Workspace(aigc_home).list_runs(capability="script.voice")[0]
    assert record.status == "cancelled" and record.job_id is not None and record.artifacts == ["model"]
    assert any(f"Voice from run {record.id}" in s.value for s in reloaded.success)  # the partial model
