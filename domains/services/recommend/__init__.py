"""Personalised recommendation: checked interaction data, eight recommenders behind one interface,
honest offline evaluation, reasons, new-user fold-in and fact-checked personalised copy.

Example:
    >>> data = load_demo()
    >>> result = compare_models(data, CompareSpec(models=("popularity", "ease")))
    >>> result.table()[["model", "recall@20", "ndcg@100"]]
    >>> bundle = RecommenderBundle(data, result.models, result.explainer)
    >>> bundle.recommend_user(data.user_ids[0], n=10, model="ease")[0].reason_text()
"""

from __future__ import annotations

from domains.services.recommend.base import MODELS, Recommender, build_model, top_n
from domains.services.recommend.bundle import (
    RecommenderBundle,
    load_bundle,
    recommendations_frame,
    save_bundle,
)
from domains.services.recommend.compare import CompareSpec, Comparison, ModelScore, compare_models
from domains.services.recommend.content import ContentModel, Hybrid
from domains.services.recommend.copywriting import Pitch, check_facts, write_pitch
from domains.services.recommend.data import (
    Interactions,
    build_interactions,
    load_demo,
    load_movielens_100k,
    read_interactions_csv,
    read_items_csv,
)
from domains.services.recommend.evaluate import PROTOCOL_METRICS, Protocol
from domains.services.recommend.explain import Reason, RecommendedItem, explain
from domains.services.recommend.factor import ALS, BPR
from domains.services.recommend.multvae import MultVAE
from domains.services.recommend.neighbours import EASE, ItemKNN, Popularity

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "MODELS",
    "PROTOCOL_METRICS",
    "CompareSpec",
    "Comparison",
    "ContentModel",
    "Hybrid",
    "Interactions",
    "ItemKNN",
    "ModelScore",
    "MultVAE",
    "Pitch",
    "Popularity",
    "Protocol",
    "Reason",
    "RecommendedItem",
    "Recommender",
    "RecommenderBundle",
    "build_interactions",
    "build_model",
    "check_facts",
    "compare_models",
    "explain",
    "load_bundle",
    "load_demo",
    "load_movielens_100k",
    "read_interactions_csv",
    "read_items_csv",
    "recommendations_frame",
    "save_bundle",
    "top_n",
    "write_pitch",
]
