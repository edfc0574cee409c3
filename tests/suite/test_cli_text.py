"""`aigc text generate` and `aigc text train`, through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_models.gpt_train import PRESETS
from suite.capabilities.text_lab.cli import GPT_PRESETS
from suite.cli import main
from suite.workspace import Workspace

CORPUS = "The quick brown fox jumps over the lazy dog. A small bird sings on the old fence.\n" * 40


@pytest.fixture(autouse=True)
def _local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIGC_LLM_BASE_URL", "AIGC_LLM_BACKEND", "AIGC_LLM_GGUF"):
        monkeypatch.delenv(name, raising=False)


def test_generate_prints_the_answer_and_records_it(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "text",
        "generate",
        "What is the capital of France?",
        "--temperature",
        "0",
        "--max-tokens",
        "24",
        "--seed",
        "0",
        "--stats",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "Paris" in out
    assert "tokens/s" in err and "SmolLM2-135M-Instruct" in err
    [run] = Workspace(aigc_home).list_runs(capability="text.generate")
    assert run.status == "done" and run.artifacts == ["answer.txt"]
    assert (Workspace(aigc_home).run_dir(run.id) / "answer.txt").read_text().strip() == out.strip()


def test_generate_with_a_missing_gguf_is_a_user_error(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["text", "generate", "hi", "--gguf", str(aigc_home / "none.gguf")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_saves_the_model_and_prints_a_sample(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "fox.txt"
    corpus.write_text(CORPUS)
    argv = [
        "text",
        "train",
        str(corpus),
        "--seconds",
        "3",
        "--preset",
        "tiny",
        "--sample",
        "60",
        "--prompt",
        "The ",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("The ") and len(out.rstrip("\n")) == 64
    assert "validation loss" in err
    [run] = Workspace(aigc_home).list_runs(capability="text.train")
    assert run.status == "done"
    assert set(run.artifacts) == {"model", "sample.txt"}
    assert run.metrics["steps"] >= 1 and run.metrics["val_loss"] > 0


def test_train_refuses_a_binary_file(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "image.txt"
    corpus.write_bytes(b"\x89PNG\x00\x00" * 100)
    assert main(["text", "train", str(corpus), "--seconds", "1"]) == 2
    assert "binary" in capsys.readouterr().err
    assert Workspace(aigc_home).list_runs() == []


def test_cli_presets_match_the_trainer() -> None:
    assert sorted(GPT_PRESETS) == sorted(PRESETS)
