from __future__ import annotations

import csv

import numpy as np
import pytest

from domains.services.chatbot import DEMO_QUESTIONS, KnowledgeIndex, SupportStore
from domains.services.chatbot.retrieval import tokenize
from shared_models.exceptions import InputError


@pytest.fixture(scope="module")
def index(demo_store: SupportStore) -> KnowledgeIndex:
    return KnowledgeIndex.from_store(demo_store, "demo")


def test_demo_knowledge_base_is_large_enough(demo_store: SupportStore) -> None:
    documents = demo_store.documents("demo")
    assert len(documents) >= 30
    assert {d["source"].split("-")[0] for d in documents} >= {
        "orders",
        "shipping",
        "returns",
        "warranty",
        "account",
        "payments",
    }


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("What is the fee to collect returned furniture?", "returns-furniture-collection.md"),
        ("Can I add my company VAT number after ordering?", "payments-invoice-vat.md"),
        ("Do I wait for inspection before my exchange ships?", "returns-exchanges.md"),
        ("My vase arrived broken", "orders-damaged.md"),
        ("How long is the password reset link valid?", "account-password-reset.md"),
    ],
)
def test_known_questions_find_their_article_first(index: KnowledgeIndex, question: str, source: str) -> None:
    hits = index.search(question, k=5)
    assert hits[0].chunk.source == source
    assert hits[0].dense > 0.3 and hits[0].score >= hits[-1].score


def test_hybrid_ranks_the_right_article_in_the_top_five_for_the_question_set(index: KnowledgeIndex) -> None:
    with DEMO_QUESTIONS.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 100
    vectors = index.embed([r["question"] for r in rows])
    found = {mode: 0 for mode in ("bm25", "dense", "hybrid")}
    for row, vector in zip(rows, vectors, strict=True):
        for mode in found:
            sources = [h.chunk.source for h in index.search(row["question"], 5, mode, query_vector=vector)]
            found[mode] += row["source"] in sources
    share = {mode: n / len(rows) for mode, n in found.items()}
    assert share["hybrid"] >= 0.9, share
    assert share["hybrid"] >= max(share["bm25"], share["dense"]) - 0.03, share


def test_tokenizer_drops_stop_words_and_stems() -> None:
    assert tokenize("How do I return the parcels?") == ["return", "parcel"]


@pytest.mark.parametrize(
    "forms",
    [
        "table tables",
        "minute minutes",
        "ship shipped shipping ships",
        "address addresses",
        "charge charged charges charging",
        "delivery deliveries",
        "status statuses",
    ],
)
def test_every_form_of_a_word_stems_alike(forms: str) -> None:
    assert len(set(tokenize(forms))) == 1, tokenize(forms)


def test_empty_and_unknown_knowledge_bases(demo_store: SupportStore) -> None:
    empty = KnowledgeIndex([], np.zeros((0, 384), np.float32), lambda t: np.zeros((len(t), 384), np.float32))
    assert empty.search("anything") == []
    with pytest.raises(InputError, match="no knowledge base named"):
        KnowledgeIndex.from_store(demo_store, "missing")
