"""Small synthetic interaction sets for the Recommender tests (not a conftest: the services package is
shared with the chatbot's tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from domains.services.recommend import Interactions, build_interactions
from shared_models.lm import Generation, GenerationOptions

GENRES = ("Comedy", "Drama", "Horror")


def clustered_frame(users: int = 60, items: int = 30, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users in three taste groups, each liking about half of its group's block of items (plus noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    block = items // len(GENRES)
    for user in range(users):
        group = user % len(GENRES)
        for item in range(items):
            inside = item // block == group
            if rng.random() < (0.55 if inside else 0.04):
                rows.append((f"u{user}", f"i{item}", float(rng.integers(3, 6)), 1_600_000_000 + item))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    meta = pd.DataFrame(
        {
            "title": [f"Film {i}" for i in range(items)],
            "categories": [GENRES[min(i // block, len(GENRES) - 1)] for i in range(items)],
            "text": [f"A {GENRES[min(i // block, len(GENRES) - 1)].lower()} story" for i in range(items)],
        },
        index=pd.Index([f"i{i}" for i in range(items)], name="item"),
    )
    return frame, meta


def clustered_interactions() -> Interactions:
    frame, meta = clustered_frame()
    return build_interactions(frame, meta, min_user_items=3, min_item_users=2, name="clustered")


class ScriptedLM:
    """Stands in for the language core: returns a fixed answer and keeps the prompt it got."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.prompts: list[tuple[str, str | None]] = []

    def generate(self, prompt: str, options: GenerationOptions | None = None, *, system: str | None = None):
        self.prompts.append((prompt, system))
        return Generation(self.answer, "test", "scripted", 10, 10, 0.1, 0.01, "stop")
