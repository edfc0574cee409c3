"""`aigc chat`: ingest a folder, ask a question (with a scripted model), train intents; each is a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.services.chatbot import SupportStore
from suite.capabilities.support_chat.runner import intents_dir, store_path
from suite.cli import main
from suite.workspace import Workspace
from tests.domains.services.chatbot.conftest import ScriptedGenerator


def test_ingest_reports_each_file_and_records_a_run(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "hours.md").write_text("# Hours\n\n## Shop\nThe shop opens at 9 am and closes at 6 pm.")
    (folder / "bad.txt").write_bytes(b"\x00\x01\x02 binary")
    assert main(["chat", "ingest", str(folder), "--kb", "acme"]) == 1  # one file refused
    out = capsys.readouterr().out
    assert "ingested  hours.md  1 chunks" in out and "refused  bad.txt" in out and "binary" in out
    assert [c.source for c in SupportStore(store_path(aigc_home)).chunks("acme")] == ["hours.md"]
    run = Workspace(aigc_home).list_runs(capability="chat.ingest")[0]
    assert run.status == "done" and run.artifacts == ["ingest_report.json"]


def test_ask_prints_a_checked_answer_with_sources(
    aigc_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = "Gift cards are valid for 3 years [1]. Gift cards never expire and double in value [1]."
    monkeypatch.setattr("shared_models.lm.build_text_generator", lambda config=None: ScriptedGenerator(draft))
    assert main(["chat", "ask", "How long is a gift card valid?", "--show-removed"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "Gift cards are valid for 3 years [1]."
    assert "[1] Gift cards - Buying and using gift cards (payments-gift-cards.md)" in captured.out
    assert "removed: Gift cards never expire and double in value." in captured.err
    run = Workspace(aigc_home).list_runs(capability="chat.ask")[0]
    assert run.params["route"] == "answer" and run.metrics["removed_sentences"] == 1


def test_intents_train_prints_accuracy(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["text,intent"]
    rows += [f"where is my parcel number {i}" + ",track" for i in range(5)]
    rows += [f"I want a refund for item {i}" + ",refund" for i in range(5)]
    csv_file = tmp_path / "intents.csv"
    csv_file.write_text("\n".join(rows))
    assert main(["chat", "intents", "train", str(csv_file)]) == 0
    assert "held-out accuracy 100.0% on 2 examples" in capsys.readouterr().out
    assert (intents_dir(aigc_home) / "intents.json").exists()
    assert main(["chat", "intents", "train", str(tmp_path / "missing.csv")]) == 2
