"""Support chatbot: intents on BANKING77, retrieval on the demo help centre, checked answers, guardrails.

- Intents: ``../shared/data/banking77/train.csv`` (skipped when absent), a stratified 20 % of every
  intent held out as the dev set, logistic regression on frozen MiniLM embeddings; dev accuracy and
  training time (embedding excluded, reported separately).
- Retrieval: the 109 questions of ``demo_questions.csv`` (each written for one demo article) against
  the demo knowledge base; hit@1, hit@5 and MRR by article, for BM25, dense and hybrid (RRF).
- Answers: the bundled SmolLM2-135M answers ``BENCH_CHAT_QUESTIONS`` (default 40) of those questions
  through the whole bot. Support share is judged by a lexical verifier: a sentence is supported when
  every number in it and at least 60 % of its content words appear in the passage it cites. The
  bot's check allows a sentence at most one word its passage lacks, so the verifier now passes kept
  sentences almost by construction; what it still shows is the raw drafts' share (what the check
  removes). The README gives a person's reading of every kept sentence as the real evidence.
  Also the share of extractive fallbacks, the share of answers that cite the article the question
  was written for (a sentence can be supported and still off the question), and median times to
  the model's first token and to the first checked text the customer sees.
- Guardrails: the 45 attacks of `domains.services.chatbot.attacks` (direct and indirect injection,
  prompt extraction, role play, delimiter tricks), poisoned documents ingested first; share resisted
  with the real model and with a compromised model that leaks and obeys everything; and the share of
  the 109 ordinary questions wrongly blocked.
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.benchmarks import Figure

BANKING77 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking77" / "train.csv"
ANSWER_QUESTIONS = int(os.environ.get("BENCH_CHAT_QUESTIONS", 40))
NAME = "chatbot"


def _intents() -> list[Figure]:
    from domains.services.chatbot.intents import IntentClassifier, parse_intents_csv, stratified_split
    from shared_models.embeddings import embed

    if not BANKING77.exists():
        return [Figure(NAME, "BANKING77 dev accuracy", float("nan"), "", f"skipped: {BANKING77} absent")]
    data = parse_intents_csv(BANKING77.read_bytes(), "banking77/train.csv")
    start = time.perf_counter()
    vectors = embed(data.texts)
    embed_s = time.perf_counter() - start
    train, dev = stratified_split(data.labels, 0.2, seed=0)
    labels = np.asarray(data.labels)
    model = IntentClassifier().fit(
        [data.texts[i] for i in train], labels[train].tolist(), embeddings=vectors[train]
    )
    report = model.evaluate([data.texts[i] for i in dev], labels[dev].tolist(), embeddings=vectors[dev])
    note = (
        f"{len(train)} train / {len(dev)} dev, {len(set(data.labels))} intents, "
        "MiniLM + word/char TF-IDF + logistic regression"
    )
    return [
        Figure(NAME, "BANKING77 dev accuracy", report.accuracy, "share", note),
        Figure(NAME, "BANKING77 training time", report.train_seconds, "s", "linear model only"),
        Figure(NAME, "BANKING77 embedding time", embed_s, "s", f"{len(data.texts)} texts, MiniLM, CPU"),
    ]


def _questions() -> list[dict[str, str]]:
    from domains.services.chatbot import DEMO_QUESTIONS

    with DEMO_QUESTIONS.open() as handle:
        return list(csv.DictReader(handle))


def _retrieval(index: object) -> list[Figure]:
    rows = _questions()
    vectors = index.embed([r["question"] for r in rows])  # type: ignore[attr-defined]
    figures = []
    for mode in ("bm25", "dense", "hybrid"):
        hit1 = hit5 = mrr = 0.0
        for row, vector in zip(rows, vectors, strict=True):
            hits = index.search(row["question"], 10, mode, query_vector=vector)  # type: ignore[attr-defined]
            sources = list(dict.fromkeys(h.chunk.source for h in hits))  # articles, best first
            rank = sources.index(row["source"]) + 1 if row["source"] in sources else None
            hit1 += rank == 1
            hit5 += rank is not None and rank <= 5
            mrr += 1 / rank if rank else 0.0
        n = len(rows)
        note = f"{n} questions, 36 articles"
        figures += [
            Figure(NAME, f"retrieval hit@1 ({mode})", hit1 / n, "share", note),
            Figure(NAME, f"retrieval hit@5 ({mode})", hit5 / n, "share", note),
            Figure(NAME, f"retrieval MRR ({mode})", mrr / n, "", note),
        ]
    return figures


def _lexically_supported(sentence: str, passage: str) -> bool:
    from domains.services.chatbot.retrieval import tokenize
    from domains.services.chatbot.support import _numbers

    words = set(tokenize(sentence))
    passage_words = set(tokenize(passage))
    if _numbers(sentence) - _numbers(passage):
        return False
    return not words or len(words & passage_words) / len(words) >= 0.6


def _answers(store: object, index: object, lm: object) -> list[Figure]:
    from domains.services.chatbot import ChatSession, SupportBot
    from domains.services.chatbot.answer import _split_cited

    bot = SupportBot(store, "demo", lm, index=index)  # type: ignore[arg-type]
    rows = _questions()[:: max(1, len(_questions()) // ANSWER_QUESTIONS)][:ANSWER_QUESTIONS]
    kept = supported = draft_total = draft_supported = fallbacks = answered = on_source = 0
    first_token, first_output = [], []
    for row in rows:
        result = bot.respond(ChatSession(), row["question"]).collect()
        if result.answer is None:
            continue  # declined or handed over: no answer to judge
        answered += 1
        answer = result.answer
        passages = {c.number: c.excerpt for c in answer.citations}  # type: ignore[attr-defined]
        on_source += any(c.source == row["source"] for c in answer.citations)  # type: ignore[attr-defined]
        if answer.mode == "extractive":  # type: ignore[attr-defined]
            fallbacks += 1
        else:
            for sentence in answer.sentences:  # type: ignore[attr-defined]
                if sentence.supported_by is not None:
                    kept += 1
                    supported += _lexically_supported(sentence.text, passages[sentence.supported_by])
        hits_text = " ".join(h.chunk.text for h in index.search(row["question"], 3))  # type: ignore[attr-defined]
        for text, _ in _split_cited(answer.draft, final=True)[0]:  # type: ignore[attr-defined]
            draft_total += 1
            draft_supported += _lexically_supported(text, hits_text)
        if answer.first_token_s is not None:  # type: ignore[attr-defined]
            first_token.append(answer.first_token_s)  # type: ignore[attr-defined]
        first_output.append(answer.first_output_s or answer.seconds)  # type: ignore[attr-defined]
    note = f"{answered} of {len(rows)} demo questions answered, {lm.model_name}"  # type: ignore[attr-defined]
    return [
        Figure(NAME, "answer sentences supported (after check)", supported / max(kept, 1), "share",
               f"{kept} kept sentences, lexical verifier; {note}"),
        Figure(NAME, "draft sentences supported (before check)", draft_supported / max(draft_total, 1),
               "share", f"{draft_total} draft sentences, same verifier"),
        Figure(NAME, "extractive fallbacks", fallbacks / max(answered, 1), "share", note),
        Figure(NAME, "answers citing the question's own article", on_source / max(answered, 1), "share",
               "supported is not the same as on topic: a true sentence from the wrong article counts above"),
        Figure(NAME, "time to first token (model)", statistics.median(first_token), "s", "median"),
        Figure(NAME, "time to first checked text", statistics.median(first_output), "s",
               "median; what the customer waits for"),
    ]  # fmt: skip


def _guardrails(store: object, index: object, lm: object) -> list[Figure]:
    from domains.services.chatbot import ChatSession, KnowledgeIndex, SupportBot
    from domains.services.chatbot.answer import system_prompt
    from domains.services.chatbot.attacks import ATTACKS, resisted
    from domains.services.chatbot.guard import classify_attack
    from tests.domains.services.chatbot.conftest import ScriptedGenerator, compromised

    for attack in ATTACKS:
        if attack.document:
            store.ingest("demo", attack.document[0], attack.document[1].encode())  # type: ignore[attr-defined]
    poisoned = KnowledgeIndex.from_store(store, "demo")  # type: ignore[arg-type]
    secret = system_prompt("Harbor Lane Goods")
    figures = []
    for label, model in (("bundled model", lm), ("compromised model", ScriptedGenerator(compromised))):
        bot = SupportBot(store, "demo", model, index=poisoned)  # type: ignore[arg-type]
        held = sum(resisted(bot.respond(ChatSession(), a.message).collect().text, a, secret) for a in ATTACKS)
        figures.append(Figure(NAME, f"attacks resisted ({label})", held / len(ATTACKS), "share",
                              f"{len(ATTACKS)} attacks, 4 via poisoned documents"))  # fmt: skip
    questions = [r["question"] for r in _questions()]
    blocked = sum(classify_attack(q) is not None for q in questions)
    figures.append(Figure(NAME, "ordinary questions blocked", blocked / len(questions), "share",
                          f"{len(questions)} demo questions"))  # fmt: skip
    return figures


def _log(figures: list[Figure]) -> list[Figure]:
    """Print figures to stderr as they come, so a long run that fails later still leaves them."""
    for f in figures:
        print(f"bench_chatbot: {f.figure} = {f.value:.4g} {f.unit} ({f.notes})", file=sys.stderr, flush=True)
    return figures


def run() -> list[Figure]:
    """All parts, or those named in ``BENCH_CHAT_PARTS`` (comma-separated: intents, retrieval,
    answers, guardrails)."""
    from domains.services.chatbot import DEMO_KB_DIR, KnowledgeIndex, SupportStore
    from domains.services.chatbot.ingest import read_folder
    from shared_models.lm import LMConfig, build_text_generator

    parts = set(os.environ.get("BENCH_CHAT_PARTS", "intents,retrieval,answers,guardrails").split(","))
    figures = _log(_intents()) if "intents" in parts else []
    with tempfile.TemporaryDirectory() as tmp:
        store = SupportStore(Path(tmp) / "support.sqlite")
        for name, data in read_folder(DEMO_KB_DIR):
            store.ingest("demo", name, data)
        index = KnowledgeIndex.from_store(store, "demo")
        if "retrieval" in parts:
            figures += _log(_retrieval(index))
        lm = build_text_generator(LMConfig(backend="local"))
        if "answers" in parts:
            figures += _log(_answers(store, index, lm))
        if "guardrails" in parts:
            figures += _log(_guardrails(store, index, lm))
    return figures
