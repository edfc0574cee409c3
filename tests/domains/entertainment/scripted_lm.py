"""A test double for the language core: a `TextGenerator` that fills any JSON schema from a seeded
word list, so pipeline logic (levels, seeds, regeneration, clean-up, validation) is tested in
milliseconds. It writes no real prose; real-model tests use the ``local_lm`` fixture."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

from shared_models.lm import ChatMessage, Chunk, GenerationOptions, TextGenerator, TextStream

WORDS = (  # noqa: SIM905
    "rain door harbour letter lamp ferry ticket night coat window promise secret river bridge clock "
    "engine garden captain sister brother market storm key photograph map island silence"
).split()
NAMES = ["Anna", "Ben", "Clara", "Dev", "Elif", "Farid", "Greta"]


class ScriptedGenerator(TextGenerator):
    """Answers every JSON request with a schema-valid value drawn from ``random.Random(seed)``.

    Args:
        repeat_share: Probability that a dialogue line repeats the previous one (to exercise the
            clean-up pass).
    """

    backend, model_name, engine = "scripted", "scripted-test-double", "python"

    def __init__(self, repeat_share: float = 0.0) -> None:
        self.repeat_share = repeat_share
        self.prompts: list[str] = []
        self.seeds: list[int | None] = []

    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        self.prompts.append(messages[-1]["content"])
        self.seeds.append(options.seed)
        rng = random.Random(options.seed)
        self._names = iter(rng.sample(NAMES, len(NAMES)))  # distinct names within one answer
        text = json.dumps(self._fill(schema or {"type": "string", "maxLength": 40}, rng, "root"))
        chunks: Iterator[Chunk] = iter([Chunk(text, tokens=len(text) // 4 + 1, finish_reason="stop")])
        return TextStream(chunks, backend=self.backend, model=self.model_name, prompt_tokens=10)

    def _fill(self, node: Mapping[str, Any], rng: random.Random, key: str) -> Any:
        if "enum" in node:
            return rng.choice(node["enum"])
        kind = node.get("type")
        if kind == "object":
            return {k: self._fill(child, rng, k) for k, child in node["properties"].items()}
        if kind == "array":
            count = rng.randint(node.get("minItems", 1), node.get("maxItems", 3))
            items = [self._fill(node["items"], rng, key) for _ in range(count)]
            if key == "dialogue":
                for i in range(1, len(items)):
                    if rng.random() < self.repeat_share:
                        items[i] = {**items[i], "line": items[i - 1]["line"]}
            return items
        if key == "name":
            return next(self._names)
        low, high = node.get("minLength", 0), node.get("maxLength", 40)
        text = " ".join(rng.choice(WORDS) for _ in range(max(1, high // 12))).capitalize() + "."
        text = text[:high]
        return text if len(text) >= low else text.ljust(low, "x")
