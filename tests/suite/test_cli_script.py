"""`aigc script`: draft to files, reopen a run, refuse bad input. The model is the schema-filling test
double (injected where the command builds its model); the bundled model is covered elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

import shared_models.lm
from domains.entertainment.scripts import parse, validate
from suite.cli import main
from suite.workspace import Workspace
from tests.domains.entertainment.scripted_lm import ScriptedGenerator


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedGenerator:
    double = ScriptedGenerator()
    monkeypatch.setattr(shared_models.lm, "build_text_generator", lambda config=None: double)
    return double


def test_draft_writes_fountain_pdf_and_html_and_records_a_run(
    scripted: ScriptedGenerator, aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, pdf, html = tmp_path / "draft.fountain", tmp_path / "draft.pdf", tmp_path / "draft.html"
    argv = ["script", "draft", "--logline", "Two rivals share a lighthouse.", "--scenes", "3", "--seed", "4"]
    assert main([*argv, "--out", str(out), "--pdf", str(pdf), "--html", str(html)]) == 0
    play = parse(out.read_text())
    assert validate(play) == [] and len(play.scenes()) == 3
    assert pdf.read_bytes().startswith(b"%PDF-") and "Courier" in html.read_text()
    assert "run 1 done" in capsys.readouterr().err
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "script.draft" and record.params["seed"] == 4 and record.params["scenes"] == 3

    assert main(argv) == 0  # to stdout, and the same seed gives the same draft
    assert capsys.readouterr().out == out.read_text()


def test_reopen_completes_a_saved_draft(scripted: ScriptedGenerator, aigc_home: Path, tmp_path: Path) -> None:
    from domains.entertainment.scripts import DraftSettings, ScriptWriter
    from suite.capabilities.script_writer.runner import write_and_record

    settings = DraftSettings("A cook hides a secret recipe.", scenes=2)
    partial = write_and_record(Workspace(aigc_home), ScriptWriter(scripted), settings, ("title", "cast"))
    out = tmp_path / "done.fountain"
    assert main(["script", "draft", "--reopen", str(partial.run_id), "--out", str(out)]) == 0
    assert len(parse(out.read_text()).scenes()) == 2
    assert partial.draft.title in out.read_text()


@pytest.mark.parametrize(("logline", "message"), [("  ", "logline is empty"), ("x" * 700, "limit is 600")])
def test_bad_loglines_fail_with_a_message(
    scripted: ScriptedGenerator,
    aigc_home: Path,
    logline: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["script", "draft", "--logline", logline]) == 2
    assert message in capsys.readouterr().err


def test_train_refuses_a_binary_corpus(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "scripts.fountain"
    corpus.write_bytes(b"\x00\x01\x02" * 200)
    assert main(["script", "train", str(corpus), "--seconds", "1"]) == 2
    assert "binary" in capsys.readouterr().err
    assert Workspace(aigc_home).count_runs() == 0
