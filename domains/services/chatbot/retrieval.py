"""Hybrid retrieval over a knowledge base: BM25 (`bm25s`) and MiniLM vectors fused by reciprocal rank.

BM25 finds the exact words customers use for things ("VAT number", "HL40012345"); dense vectors find
paraphrases ("swap a lamp" for "exchange"). Reciprocal-rank fusion (Cormack et al. 2009) adds
``weight / (k + rank)`` from each list, so neither score scale dominates. Each hit keeps both raw scores:
the dense cosine is what confidence decisions use, since it is comparable across questions.

Example:
    >>> index = KnowledgeIndex.from_store(store, "help")
    >>> index.search("how long do I have to send something back?", k=3)[0].chunk.source
    'returns-policy.md'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from domains.services.chatbot.kb import StoredChunk, SupportStore
from shared_models.exceptions import InputError

__all__ = ["Hit", "KnowledgeIndex", "RetrievalMode", "tokenize"]

RetrievalMode = Literal["bm25", "dense", "hybrid"]
# Reciprocal-rank fusion constants. The classic k = 60 suits TREC runs of 1,000 documents; a help
# centre has tens of articles, where a smaller k keeps the top ranks decisive. Dense ranks weigh more
# because MiniLM alone beats BM25 on paraphrased questions. Chosen on the demo question set (hit@1
# 0.83 -> 0.85, see tests/benchmarks/bench_chatbot.py); revisit with a real help centre's questions.
RRF_K = 10
DENSE_WEIGHT = 1.5
STOPWORDS = frozenset(
    re.findall(
        r"\S+",
        "a an and are as at be but by can could did do does for from had has have how i if in into is "
        "it its me my no not of on or our so than that the their them then there these they this to was "
        "we were what when where which who why will with would you your yours i'm i've it's",
    )
)


def _stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed, -ly): enough to match 'returns' with 'return'.

    A final e and a doubled final consonant go too, so that the forms meet: 'table' and 'tables'
    both give 'tabl'; 'ship', 'shipped' and 'shipping' all give 'ship'; 'address' keeps its s.
    """
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if suffix == "s" and word.endswith(("ss", "us")):
            break  # "address", "status": not plurals
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            break
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "lsz0123456789":
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop words dropped, lightly stemmed word tokens (numbers kept)."""
    return [_stem(w) for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with every score that ranked it.

    Attributes:
        chunk: The stored chunk.
        score: The fused (or single-method) ranking score.
        bm25: BM25 score (0 when BM25 did not match it).
        dense: Cosine similarity of question and chunk embeddings, in [-1, 1].
    """

    chunk: StoredChunk
    score: float
    bm25: float
    dense: float


class KnowledgeIndex:
    """BM25 and dense indexes over one knowledge base's chunks (built in memory, read-only).

    Args:
        chunks: The chunks, in a fixed order.
        vectors: Their unit embeddings, shape ``(len(chunks), 384)``.
        embedder: Embeds questions (the same model that embedded the chunks).
        revision: The store revision the index was built from.
    """

    def __init__(
        self,
        chunks: Sequence[StoredChunk],
        vectors: np.ndarray,
        embedder: Callable[[Sequence[str]], np.ndarray],
        revision: int = 0,
    ) -> None:
        import bm25s

        if len(chunks) != len(vectors):
            raise InputError("every chunk needs exactly one embedding")
        self.chunks = list(chunks)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.revision = revision
        self._embedder = embedder
        self._bm25 = bm25s.BM25()
        if self.chunks:
            tokens = [tokenize(c.search_text) or ["_empty_"] for c in self.chunks]
            self._bm25.index(tokens, show_progress=False)

    @classmethod
    def from_store(cls, store: SupportStore, kb: str) -> KnowledgeIndex:
        """Build the index of a stored knowledge base."""
        chunks, vectors, revision = store.load_index_data(kb)
        return cls(chunks, vectors, store.embed, revision)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with the model that embedded the chunks."""
        return np.asarray(self._embedder(list(texts)), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.chunks)

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk for the question (zeros where no word matches)."""
        tokens = tokenize(question)
        if not self.chunks or not tokens:
            return np.zeros(len(self.chunks), np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def dense_scores(self, question: str, query_vector: np.ndarray | None = None) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, np.float32)
        vector = self.embed([question])[0] if query_vector is None else query_vector
        return self.vectors @ np.asarray(vector, dtype=np.float32)

    def search(
        self,
        question: str,
        k: int = 5,
        mode: RetrievalMode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks for a question.

        Args:
            question: The customer's question.
            k: How many hits.
            mode: ``bm25``, ``dense`` or ``hybrid`` (reciprocal-rank fusion of both).
            query_vector: The question's embedding when the caller already has it.

        Returns:
            Hits, best first (fewer than ``k`` when the knowledge base is small).
        """
        if mode not in ("bm25", "dense", "hybrid"):
            raise InputError(f"unknown retrieval mode {mode!r}; use bm25, dense or hybrid")
        if not self.chunks or k < 1:
            return []
        bm25 = self.bm25_scores(question)
        dense = self.dense_scores(question, query_vector)
        if mode == "bm25":
            fused = bm25
        elif mode == "dense":
            fused = dense
        else:
            fused = np.zeros(len(self.chunks), np.float64)
            for scores, weight, usable in ((bm25, 1.0, bm25 > 0), (dense, DENSE_WEIGHT, dense > -1)):
                order = np.argsort(-scores, kind="stable")
                ranks = np.empty(len(order), np.int64)
                ranks[order] = np.arange(1, len(order) + 1)
                fused += np.where(usable, weight / (RRF_K + ranks), 0.0)  # no BM25 credit without a match
        top = np.argsort(-fused, kind="stable")[:k]
        return [Hit(self.chunks[i], float(fused[i]), float(bm25[i]), float(dense[i])) for i in top]
