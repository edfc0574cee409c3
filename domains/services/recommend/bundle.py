"""Trained recommenders on disk, without pickle, and the serving calls on them.

A bundle folder holds::

    data.json              user ids, item ids, item metadata, data notes
    data.safetensors       the training matrix (CSR arrays)
    models/<name>/         config.json + arrays.safetensors (Mult-VAE: a model-store entry)
    explainer/             the item-kNN that explains models without item weights

Loading reads JSON and safetensors only, so a bundle from elsewhere cannot run code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from domains.services.recommend.base import MODELS, Recommender, build_model
from domains.services.recommend.data import Interactions
from domains.services.recommend.explain import RecommendedItem, explain
from domains.services.recommend.multvae import MultVAE
from domains.services.recommend.neighbours import ItemKNN
from shared_models.exceptions import InputError, ModelError

__all__ = ["RecommenderBundle", "load_bundle", "save_bundle"]

CONFIG = "config.json"
ARRAYS = "arrays.safetensors"
MAX_JSON_BYTES = 200_000_000


@dataclass
class RecommenderBundle:
    """Fitted models with their data: what serving needs.

    Attributes:
        data: The interactions the models were fitted on (ids, titles, histories).
        models: Fitted models by registry name.
        explainer: Item-kNN for reasons when a model has no item weights of its own.
    """

    data: Interactions
    models: dict[str, Recommender]
    explainer: ItemKNN

    def model(self, name: str | None = None) -> Recommender:
        """A model by name (default: the first one)."""
        if not self.models:
            raise InputError("this run saved no trained model")
        name = name or next(iter(self.models))
        if name not in self.models:
            raise InputError(f"model {name!r} was not trained in this run; trained: {sorted(self.models)}")
        return self.models[name]

    def recommend_user(
        self, user_id: str | int, n: int = 10, model: str | None = None, max_reasons: int = 3
    ) -> list[RecommendedItem]:
        """Top-``n`` for a known user, each with the user's items that led to it.

        Example:
            >>> bundle.recommend_user("42", n=10, model="ease")[0].reason_text()
            'because you liked Toy Story (1995)'
        """
        _check_n(n)
        chosen = self.model(model)
        user = self.data.user_index(user_id)
        items, scores = chosen.recommend([user], n)
        return explain(
            chosen, self.explainer, self.data, self.data.history(user), items[0], scores[0], max_reasons
        )

    def recommend_new_user(
        self, item_ids: list[str], n: int = 10, model: str | None = None, max_reasons: int = 3
    ) -> list[RecommendedItem]:
        """Top-``n`` for a new user who picked ``item_ids`` (fold-in, no retraining)."""
        _check_n(n)
        chosen = self.model(model)
        history = np.array([self.data.item_index(i) for i in item_ids], dtype=np.int64)
        items, scores = chosen.recommend_history(history, n)
        return explain(chosen, self.explainer, self.data, history, items, scores, max_reasons)

    def similar_items(self, item_id: str, n: int = 10, model: str | None = None) -> pd.DataFrame:
        """The ``n`` items most similar to ``item_id`` under a model, as a table."""
        _check_n(n)
        items, scores = self.model(model).similar_items(self.data.item_index(item_id), n)
        return pd.DataFrame(
            {
                "item": [self.data.item_ids[i] for i in items],
                "title": [self.data.title(i) for i in items],
                "categories": [self.data.items["categories"].iat[i] for i in items],
                "similarity": np.round(scores.astype(float), 4),
            }
        )


def _check_n(n: int) -> None:
    if not 1 <= n <= 500:
        raise InputError(f"n must be between 1 and 500, got {n}")


def recommendations_frame(items: list[RecommendedItem]) -> pd.DataFrame:
    """A table of recommendations for display and CSV download."""
    return pd.DataFrame(
        {
            "rank": [r.rank for r in items],
            "title": [r.title for r in items],
            "because you liked": ["; ".join(x.title for x in r.reasons) for r in items],
            "categories": [r.categories.replace("|", ", ") for r in items],
            "score": [round(r.score, 4) for r in items],
            "item": [r.item_id for r in items],
        }
    )


def _save_model(folder: Path, model: Recommender) -> None:
    folder.mkdir(parents=True)
    (folder / CONFIG).write_text(json.dumps({"model": model.name, "params": model.get_params()}, indent=2))
    if isinstance(model, MultVAE):
        model.save_to(folder / "network")
    else:
        arrays = {k: np.ascontiguousarray(v) for k, v in model.state_arrays().items()}
        save_file(arrays, str(folder / ARRAYS))


def save_bundle(folder: str | os.PathLike[str], bundle: RecommenderBundle) -> Path:
    """Write a bundle atomically (a half-written bundle is never visible)."""
    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        data = bundle.data
        meta = {
            "name": data.name,
            "notes": data.notes,
            "user_ids": data.user_ids,
            "item_ids": data.item_ids,
            "items": {c: data.items[c].tolist() for c in ("title", "categories", "text")},
            "models": list(bundle.models),
        }
        (tmp / "data.json").write_text(json.dumps(meta))
        m = data.matrix
        save_file(
            {"indptr": m.indptr.astype(np.int64), "indices": m.indices.astype(np.int64)},
            str(tmp / "data.safetensors"),
        )
        for name, model in bundle.models.items():
            _save_model(tmp / "models" / name, model)
        _save_model(tmp / "explainer", bundle.explainer)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ModelError(f"{path.parent} is not a recommender bundle: {path.name} is missing")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ModelError(f"{path} is too large to be a bundle file")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return value


def _arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path} is not a valid safetensors file: {exc}") from exc


def _load_model(folder: Path, train: sp.csr_matrix) -> Recommender:
    config = _read_json(folder / CONFIG)
    name = config.get("model")
    if name not in MODELS:
        raise ModelError(f"{folder} holds an unknown model {name!r}")
    try:
        model = build_model(name, **config.get("params", {}))
        if isinstance(model, MultVAE):
            model.load_from(folder / "network", train)
        else:
            model.load_state_arrays(_arrays(folder / ARRAYS), train)
    except (InputError, KeyError) as exc:
        raise ModelError(f"the saved {name} model in {folder} is damaged: {exc}") from exc
    return model


def load_bundle(folder: str | os.PathLike[str]) -> RecommenderBundle:
    """Read a bundle written by `save_bundle` (JSON and safetensors only).

    Raises:
        ModelError: Missing or damaged files.
    """
    root = Path(folder)
    meta = _read_json(root / "data.json")
    try:
        arrays = _arrays(root / "data.safetensors")
        n_users, n_items = len(meta["user_ids"]), len(meta["item_ids"])
        indices = arrays["indices"]
        matrix = sp.csr_matrix(
            (np.ones(indices.size, dtype=np.float32), indices, arrays["indptr"]), shape=(n_users, n_items)
        )
        items = pd.DataFrame(meta["items"], index=pd.Index(meta["item_ids"], name="item"))
        data = Interactions(matrix, meta["user_ids"], meta["item_ids"], items, meta["name"], meta["notes"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"{root} holds damaged interaction data: {exc}") from exc
    models = {name: _load_model(root / "models" / name, matrix) for name in meta.get("models", [])}
    explainer = _load_model(root / "explainer", matrix)
    if not isinstance(explainer, ItemKNN):
        raise ModelError(f"{root}/explainer is not an item-kNN model")
    return RecommenderBundle(data, models, explainer)
