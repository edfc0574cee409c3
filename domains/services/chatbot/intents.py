"""Intent recognition: a linear classifier on frozen MiniLM sentence embeddings and TF-IDF n-grams.

Trained from an intents CSV (``text,intent`` and optionally ``response``: a fixed answer the bot gives
for that intent). Like Rasa's FallbackClassifier, a prediction is only trusted when its probability
clears a threshold and beats the runner-up by a margin; a message far from every training example
(cosine similarity to its nearest one under ``min_similarity``) is out of scope. Saved as safetensors
(weights, training embeddings, idf weights) plus a JSON card (with the n-gram vocabularies); nothing is
pickled.

Example:
    >>> model = IntentClassifier().fit(texts, labels)
    >>> model.predict_one("where is my parcel").intent
    'track_order'
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

from domains.services.chatbot.lexical import LexicalFeatures
from shared_models.exceptions import InputError, ModelError, ResourceLimitError

__all__ = [
    "IntentClassifier",
    "IntentConfig",
    "IntentData",
    "IntentPrediction",
    "IntentReport",
    "parse_intents_csv",
    "stratified_split",
]

MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
Status = Literal["ok", "low_confidence", "ambiguous", "out_of_scope"]
Embedder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class IntentConfig:
    """Classifier and fallback settings.

    Attributes:
        c: Inverse L2 regularisation of the logistic regression.
        threshold: Lowest top probability that is trusted.
        ambiguity_margin: Least gap between the top two probabilities.
        min_similarity: Least cosine similarity to the nearest training example; below is out of scope.
        max_iter: Solver iterations.
        random_state: Seed of the solver.
        lexical_min_examples: Add word and character TF-IDF n-grams to the embedding (see `lexical`)
            when intents have at least this many examples on average. N-grams need data: with a
            handful of examples each they tie a paraphrase to whichever intent shares its words.
        embedding_weight: Scale of the (unit) embedding against the (unit) n-gram blocks; chosen on a
            validation split inside BANKING77's training part (1.0 and 1.5 tied at 0.926, 2 and 3 lower).
    """

    c: float = 10.0
    threshold: float = 0.3
    ambiguity_margin: float = 0.05
    min_similarity: float = 0.45
    max_iter: int = 1000
    random_state: int = 0
    lexical_min_examples: int = 20
    embedding_weight: float = 1.5

    def __post_init__(self) -> None:
        if self.c <= 0 or not 0 <= self.threshold < 1 or not 0 <= self.ambiguity_margin < 1:
            raise InputError("c must be positive; threshold and ambiguity_margin in [0, 1)")
        if not -1 <= self.min_similarity < 1:
            raise InputError("min_similarity must be in [-1, 1)")
        if not self.embedding_weight > 0:
            raise InputError("embedding_weight must be positive")


@dataclass(frozen=True)
class IntentData:
    """Parsed intents CSV: examples, labels and fixed responses per intent."""

    texts: list[str]
    labels: list[str]
    responses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntentPrediction:
    """What the classifier thinks a message wants.

    Attributes:
        intent: The best intent, or None when the status is not ``ok``.
        status: ``ok``, ``low_confidence``, ``ambiguous`` or ``out_of_scope``.
        confidence: Probability of the best intent.
        candidate: The best intent even when not trusted (for logs and clarifying questions).
        runner_up: The second intent.
        similarity: Cosine similarity to the nearest training example.
    """

    intent: str | None
    status: Status
    confidence: float
    candidate: str
    runner_up: str | None
    similarity: float


@dataclass(frozen=True)
class IntentReport:
    """Evaluation on held-out examples."""

    accuracy: float
    labels: list[str]
    confusion: np.ndarray  # (true, predicted) counts, rows and columns in ``labels`` order
    train_seconds: float
    n_train: int
    n_test: int


def parse_intents_csv(data: bytes, name: str = "intents.csv") -> IntentData:
    """Check and read an intents CSV with columns ``text`` and ``intent`` (optional ``response``).

    Raises:
        InputError: Not UTF-8 text, missing columns, empty, or fewer than 2 intents.
        ResourceLimitError: Too large.
    """
    if len(data) > MAX_CSV_BYTES:
        raise ResourceLimitError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB"
        )
    if b"\x00" in data[:4096]:
        raise InputError(f"{name} looks like a binary file, not a CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text; save it as UTF-8") from exc
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{name} is empty; it needs a header row text,intent and examples")
    header = [h.strip().lower() for h in rows[0]]
    text_col = next((header.index(c) for c in ("text", "example", "utterance") if c in header), None)
    label_col = next((header.index(c) for c in ("intent", "label", "category") if c in header), None)
    if text_col is None or label_col is None:
        raise InputError(f"{name} needs the columns 'text' and 'intent'; its header is {rows[0]}")
    response_col = header.index("response") if "response" in header else None
    if len(rows) - 1 > MAX_ROWS:
        raise ResourceLimitError(f"{name} has {len(rows) - 1:,} rows; the limit is {MAX_ROWS:,}")
    texts, labels, responses = [], [], {}
    for row in rows[1:]:
        if len(row) <= max(text_col, label_col) or not row[text_col].strip() or not row[label_col].strip():
            continue
        texts.append(row[text_col].strip())
        labels.append(row[label_col].strip())
        if response_col is not None and len(row) > response_col and row[response_col].strip():
            responses.setdefault(labels[-1], row[response_col].strip())
    if len(set(labels)) < 2:
        raise InputError(f"{name} needs examples of at least 2 intents; it has {len(set(labels))}")
    return IntentData(texts, labels, responses)


def stratified_split(
    labels: Sequence[str], test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices holding out ``test_size`` of every intent (at least one kept to train)."""
    rng = np.random.default_rng(seed)
    labels_arr = np.asarray(labels)
    train, test = [], []
    for label in sorted(set(labels)):
        idx = rng.permutation(np.flatnonzero(labels_arr == label))
        n_test = min(len(idx) - 1, round(len(idx) * test_size))
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.asarray(train, int)), np.sort(np.asarray(test, int))


class IntentClassifier:
    """Logistic regression on MiniLM embeddings (and TF-IDF n-grams) with Rasa-style fallback.

    Args:
        config: Training and fallback settings.
        embedder: Texts to unit vectors (default: MiniLM).
    """

    def __init__(self, config: IntentConfig | None = None, embedder: Embedder | None = None) -> None:
        self.config = config or IntentConfig()
        self._embedder = embedder

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embedder is None:
            from shared_models.embeddings import embed

            self._embedder = embed
        return np.asarray(self._embedder(list(texts)), dtype=np.float32)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        responses: dict[str, str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> IntentClassifier:
        """Train on examples; ``embeddings`` may be passed when already computed (benchmarks)."""
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(labels) or not texts:
            raise InputError("texts and labels must be non-empty and of the same length")
        if len(set(labels)) < 2:
            raise InputError("an intent classifier needs at least 2 intents")
        start = time.perf_counter()
        x = self._embed(texts) if embeddings is None else np.asarray(embeddings, np.float32)
        enough = len(texts) >= self.config.lexical_min_examples * len(set(labels))
        self.lexical_ = LexicalFeatures().fit(texts) if enough else None
        model = LogisticRegression(
            C=self.config.c, max_iter=self.config.max_iter, random_state=self.config.random_state
        )
        model.fit(self._features(texts, x), np.asarray(labels))
        self.labels_ = [str(c) for c in model.classes_]
        # C order matters: safetensors writes the raw buffer, and sklearn may hand back Fortran order.
        self.coef_ = np.ascontiguousarray(model.coef_, dtype=np.float32)
        self.intercept_ = np.ascontiguousarray(model.intercept_, dtype=np.float32)
        self.examples_ = np.ascontiguousarray(x, dtype=np.float32)
        self.responses_ = dict(responses or {})
        self.train_seconds_ = time.perf_counter() - start
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("the intent classifier is not trained; train it from an intents CSV first")

    def _features(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray | sp.csr_matrix:
        lexical = getattr(self, "lexical_", None)
        if lexical is None:
            return embeddings
        scaled = sp.csr_matrix(embeddings * np.float32(self.config.embedding_weight))
        return sp.hstack([scaled, lexical.transform(texts)], format="csr", dtype=np.float32)

    def probabilities(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Probability of each intent (columns in ``labels_`` order) for texts and their embeddings."""
        self._check_fitted()
        logits = np.asarray(self._features(texts, embeddings) @ self.coef_.T) + self.intercept_
        if logits.shape[1] == 1:  # sklearn keeps one column for two classes
            logits = np.concatenate([-logits, logits], axis=1) / 2
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> list[IntentPrediction]:
        """Predictions with fallback status for each text."""
        self._check_fitted()
        x = self._embed(texts) if embeddings is None else np.asarray(embeddings, np.float32)
        probs = self.probabilities(texts, x)
        nearest = (x @ self.examples_.T).max(axis=1)
        out = []
        for p, sim in zip(probs, nearest, strict=True):
            order = np.argsort(-p)
            best, second = float(p[order[0]]), float(p[order[1]])
            candidate, runner_up = self.labels_[order[0]], self.labels_[order[1]]
            if sim < self.config.min_similarity:
                status: Status = "out_of_scope"
            elif best < self.config.threshold:
                status = "low_confidence"
            elif best - second < self.config.ambiguity_margin:
                status = "ambiguous"
            else:
                status = "ok"
            intent = candidate if status == "ok" else None
            out.append(IntentPrediction(intent, status, best, candidate, runner_up, float(sim)))
        return out

    def predict_one(self, text: str, embedding: np.ndarray | None = None) -> IntentPrediction:
        return self.predict([text], None if embedding is None else embedding[None, :])[0]

    def evaluate(
        self, texts: Sequence[str], labels: Sequence[str], embeddings: np.ndarray | None = None
    ) -> IntentReport:
        """Accuracy and confusion matrix of the raw top intent (no fallback) on labelled examples."""
        self._check_fitted()
        x = self._embed(texts) if embeddings is None else np.asarray(embeddings, np.float32)
        predicted = np.asarray(self.labels_)[self.probabilities(texts, x).argmax(axis=1)]
        truth = np.asarray(labels)
        index = {label: i for i, label in enumerate(self.labels_)}
        confusion = np.zeros((len(self.labels_), len(self.labels_)), np.int64)
        for t, p in zip(truth, predicted, strict=True):
            if t in index:
                confusion[index[t], index[p]] += 1
        return IntentReport(
            accuracy=float((predicted == truth).mean()) if len(truth) else 0.0,
            labels=list(self.labels_),
            confusion=confusion,
            train_seconds=getattr(self, "train_seconds_", 0.0),
            n_train=len(self.examples_),
            n_test=len(truth),
        )

    def response_for(self, intent: str | None) -> str | None:
        """The fixed answer configured for an intent, if any."""
        return self.responses_.get(intent) if intent else None

    # -- persistence ---------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write ``weights.safetensors`` and ``intents.json`` into ``folder`` (atomically per file)."""
        from safetensors.numpy import save_file

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "weights.safetensors.tmp"
        tensors = {"coef": self.coef_, "intercept": self.intercept_, "examples": self.examples_}
        vocabularies: dict[str, dict[str, int]] | None = None
        if getattr(self, "lexical_", None) is not None:
            vocabularies, idf = self.lexical_.state()
            tensors.update(idf)
        save_file(tensors, str(tmp))
        tmp.replace(folder / "weights.safetensors")
        card = {
            "vocabularies": vocabularies,
            "labels": self.labels_,
            "responses": self.responses_,
            "config": asdict(self.config),
            "train_seconds": getattr(self, "train_seconds_", 0.0),
        }
        tmp_json = folder / "intents.json.tmp"
        tmp_json.write_text(json.dumps(card, indent=2))
        tmp_json.replace(folder / "intents.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None) -> IntentClassifier:
        """Read a model written by `save`.

        Raises:
            ModelError: Files missing or inconsistent.
        """
        from safetensors.numpy import load_file

        folder = Path(folder)
        try:
            card = json.loads((folder / "intents.json").read_text())
            tensors = load_file(str(folder / "weights.safetensors"))
            model = cls(IntentConfig(**card["config"]), embedder)
            model.labels_ = list(card["labels"])
            model.responses_ = dict(card.get("responses", {}))
            model.train_seconds_ = float(card.get("train_seconds", 0.0))
            model.coef_, model.intercept_ = tensors["coef"], tensors["intercept"]
            model.examples_ = tensors["examples"]
            vocabularies = card.get("vocabularies")
            model.lexical_ = LexicalFeatures.from_state(vocabularies, tensors) if vocabularies else None
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"the intent model in {folder} cannot be read ({exc}); train it again") from exc
        width = model.examples_.shape[1] + (model.lexical_.size if model.lexical_ is not None else 0)
        if model.coef_.shape[0] not in (1, len(model.labels_)) or model.coef_.shape[1] != width:
            raise ModelError(f"the intent model in {folder} is inconsistent; train it again")
        return model
