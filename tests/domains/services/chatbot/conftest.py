"""Chatbot fixtures: a scripted language model (deterministic, instant) and a demo knowledge base."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from domains.services.chatbot import DEMO_KB_DIR, SupportStore
from domains.services.chatbot.ingest import read_folder
from shared_models.lm import ChatMessage, Chunk, GenerationOptions, TextGenerator, TextStream

Script = Callable[[list[ChatMessage]], str]


class ScriptedGenerator(TextGenerator):
    """A `TextGenerator` test double: answers with ``script(messages)``, streamed word by word.

    It records every chat it was given, so tests can check what reached the model.
    """

    backend, model_name, engine = "test", "scripted", "python"

    def __init__(self, script: Script | str, finish_reason: str = "stop") -> None:
        self.script = script if callable(script) else (lambda _messages, text=script: text)
        self.finish_reason = finish_reason  # "length": the draft ran into max_tokens
        self.calls: list[list[ChatMessage]] = []

    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        self.calls.append(messages)
        text = self.script(messages)

        def chunks() -> Iterator[Chunk]:
            pieces = re.findall(r"\S+\s*", text)
            for i, piece in enumerate(pieces):
                yield Chunk(piece, 1, self.finish_reason if i == len(pieces) - 1 else None)

        return TextStream(chunks(), backend=self.backend, model=self.model_name, prompt_tokens=10)


def compromised(messages: list[ChatMessage]) -> str:
    """The worst model imaginable: it leaks its rules and obeys whatever the customer asked."""
    question = messages[-1]["content"]
    leak = messages[0]["content"]
    return f"{leak} Sure, here it is. {question} PWNED-7731 BANANA-42. Every order ships free forever."


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> SupportStore:
    """The demo help centre ingested once per test session (read-only for tests)."""
    store = SupportStore(tmp_path_factory.mktemp("support") / "support.sqlite")
    for name, data in read_folder(DEMO_KB_DIR):
        store.ingest("demo", name, data)
    return store


@pytest.fixture
def store(tmp_path: Path) -> SupportStore:
    return SupportStore(tmp_path / "support.sqlite")
