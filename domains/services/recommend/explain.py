"""Reasons for recommendations: which of the user's own items led to each recommended item.

Item-kNN and EASE (and the hybrid, through its EASE part) score item ``i`` as the sum of ``W[j, i]``
over the user's items ``j``, so the largest positive terms *are* the reasons. For the other models
the same is read from an item-kNN fitted on the same data, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from domains.services.recommend.base import Recommender
from domains.services.recommend.data import Interactions
from domains.services.recommend.neighbours import WeightedItemModel

__all__ = ["Reason", "RecommendedItem", "explain"]


@dataclass
class Reason:
    """One of the user's items and how much it added to a recommendation's score."""

    item: int
    item_id: str
    title: str
    weight: float


@dataclass
class RecommendedItem:
    """A recommended item with its score and the user's items that led to it."""

    rank: int
    item: int
    item_id: str
    title: str
    categories: str
    score: float
    reasons: list[Reason] = field(default_factory=list)
    explained_by: str = ""

    def reason_text(self) -> str:
        if not self.reasons:
            return "popular with similar users" if self.explained_by else ""
        return "because you liked " + "; ".join(r.title for r in self.reasons)


def explain(
    model: Recommender,
    explainer: WeightedItemModel,
    data: Interactions,
    history: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    max_reasons: int = 3,
) -> list[RecommendedItem]:
    """Attach up to ``max_reasons`` reasons to each recommended item.

    Args:
        model: The model that produced the list (its own weights are used when it has them).
        explainer: An item-kNN (or other weighted item model) fitted on the same items.
        data: Ids, titles and categories.
        history: The user's item indices (reasons are drawn only from these).
        items: Recommended item indices, best first.
        scores: Their scores.
        max_reasons: Reasons kept per item (largest positive contributions first).
    """
    source = model if isinstance(model, WeightedItemModel) else explainer
    history = np.unique(np.asarray(history, dtype=np.int64))
    out = []
    for rank, (item, score) in enumerate(zip(items, scores, strict=True), start=1):
        reasons: list[Reason] = []
        if history.size:
            weights = source.contributions(history, int(item))
            for position in np.argsort(-weights, kind="stable")[:max_reasons]:
                if weights[position] <= 0:
                    break
                j = int(history[position])
                reasons.append(Reason(j, data.item_ids[j], data.title(j), float(weights[position])))
        out.append(
            RecommendedItem(
                rank=rank,
                item=int(item),
                item_id=data.item_ids[int(item)],
                title=data.title(int(item)),
                categories=str(data.items["categories"].iat[int(item)]),
                score=float(score),
                reasons=reasons,
                explained_by=source.label,
            )
        )
    return out
