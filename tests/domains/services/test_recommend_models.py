from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from domains.services.recommend import (
    EASE,
    MODELS,
    CompareSpec,
    Interactions,
    ItemKNN,
    RecommenderBundle,
    build_model,
    compare_models,
    load_bundle,
    save_bundle,
)
from shared_models.exceptions import InputError
from tests.domains.services.recs_data import clustered_interactions

# Small, fast settings per model: the shared suite checks behaviour, not tuned quality.
FAST = {
    "bpr": {"epochs": 20, "factors": 16, "batch_size": 128},
    "mult-vae": {"epochs": 80, "hidden": 64, "latent": 16, "batch_size": 16, "lr": 1e-3, "ensemble": 2},
    "als": {"factors": 8, "iterations": 10, "alpha": 2.0, "l2": 5.0},
    "ease": {"l2": 10.0},
    "hybrid": {"l2": 10.0},
    "item-knn": {"neighbours": 20},
}


@pytest.fixture(scope="module")
def clustered() -> Interactions:
    return clustered_interactions()


def fitted(name: str, data: Interactions, seed: int = 0):
    params = dict(FAST.get(name, {}))
    if "random_state" in MODELS[name].param_names():
        params["random_state"] = seed
    texts = data.item_texts() if MODELS[name].needs_text else None
    return build_model(name, **params).fit(data.matrix, texts)


@pytest.fixture(scope="module")
def models(clustered: Interactions) -> dict:
    return {name: fitted(name, clustered) for name in MODELS}


def test_registry_holds_the_eight_models() -> None:
    assert set(MODELS) == {"popularity", "item-knn", "ease", "als", "bpr", "mult-vae", "content", "hybrid"}
    with pytest.raises(InputError, match="unknown model 'svd'; available"):
        build_model("svd")


@pytest.mark.parametrize("name", sorted(MODELS))
class TestEveryModel:
    def test_recommends_unseen_items_deterministically(
        self, name: str, models: dict, clustered: Interactions
    ):
        model = models[name]
        items, scores = model.recommend([0, 1, 2], n=5)
        assert items.shape == (3, 5) and np.all(np.diff(scores, axis=1) <= 1e-9)
        for row, user in zip(items, [0, 1, 2], strict=True):
            assert not set(row) & set(clustered.history(user))
        again = fitted(name, clustered).recommend([0, 1, 2], n=5)[0]
        assert np.array_equal(items, again)

    def test_new_user_fold_in_and_similar_items(self, name: str, models: dict, clustered: Interactions):
        model = models[name]
        picks = [0, 1, 2]
        items, _ = model.recommend_history(picks, n=5)
        assert len(items) == 5 and not set(items) & set(picks)
        similar, _ = model.similar_items(4, n=3)
        assert len(similar) == 3 and 4 not in similar

    def test_save_and_load_give_the_same_lists(
        self, name: str, models: dict, clustered: Interactions, tmp_path: Path
    ):
        bundle = RecommenderBundle(clustered, {name: models[name]}, models["item-knn"])
        save_bundle(tmp_path / "bundle", bundle)
        assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pt"))
        loaded = load_bundle(tmp_path / "bundle")
        before = [r.item_id for r in bundle.recommend_user("u3", 5, name)]
        after = [r.item_id for r in loaded.recommend_user("u3", 5, name)]
        assert before == after
        picks = [clustered.item_ids[0], clustered.item_ids[1]]
        assert [r.item_id for r in bundle.recommend_new_user(picks, 5, name)] == [
            r.item_id for r in loaded.recommend_new_user(picks, 5, name)
        ]


def test_collaborative_models_find_each_users_taste_group(models: dict, clustered: Interactions) -> None:
    """On three clean taste groups, every collaborative model fills a user's list from their group."""
    block = 10
    for name in ("item-knn", "ease", "als", "bpr", "mult-vae", "hybrid"):
        items, _ = models[name].recommend(np.arange(clustered.n_users), n=3)
        groups = np.array([int(clustered.item_ids[i][1:]) // block for i in items.ravel()]).reshape(
            items.shape
        )
        users = np.array([int(u[1:]) % 3 for u in clustered.user_ids])
        share = np.mean(groups == users[:, None])
        assert share > 0.8, (name, share)


def test_ease_equals_a_direct_ridge_solve_per_item() -> None:
    rng = np.random.default_rng(1)
    x = (rng.random((12, 6)) < 0.5).astype(np.float64)
    l2 = 2.0
    weights = EASE(l2).fit(sp.csr_matrix(x)).weights()
    for i in range(6):
        others = [j for j in range(6) if j != i]
        a = x[:, others]
        direct = np.linalg.solve(a.T @ a + l2 * np.eye(5), a.T @ x[:, i])
        assert weights[others, i] == pytest.approx(direct, rel=1e-4, abs=1e-5)
        assert weights[i, i] == 0.0


def test_explanations_name_only_items_the_user_has(models: dict, clustered: Interactions) -> None:
    bundle = RecommenderBundle(clustered, {n: models[n] for n in ("ease", "als")}, models["item-knn"])
    for user in clustered.user_ids[:15]:
        history = set(clustered.history(clustered.user_index(user)))
        for name in ("ease", "als"):
            for rec in bundle.recommend_user(user, 5, name):
                assert rec.reasons, (user, name)
                assert {r.item for r in rec.reasons} <= history
                assert all(r.weight > 0 for r in rec.reasons)
                assert rec.reason_text().startswith("because you liked ")
    new = bundle.recommend_new_user(["i0", "i1"], 5, "ease")
    assert all({r.item_id for r in rec.reasons} <= {"i0", "i1"} for rec in new)
    assert new[0].explained_by == "EASE"
    assert bundle.recommend_user("u0", 3, "als")[0].explained_by == ItemKNN.label


def test_compare_scores_models_and_stops_cleanly(clustered: Interactions) -> None:
    spec = CompareSpec(models=("popularity", "ease"), protocols=("strong", "random"), params=FAST)
    result = compare_models(clustered, spec)
    table = result.table().set_index(["model", "protocol"])
    assert {"recall@20", "recall@50", "ndcg@100", "recall@10", "ndcg@10", "coverage@10"} <= set(table.columns)
    assert table.loc[("EASE", "strong"), "ndcg@100"] > table.loc[("Popularity", "strong"), "ndcg@100"]
    assert table.loc[("EASE", "random"), "ndcg@10"] > table.loc[("Popularity", "random"), "ndcg@10"]
    assert set(result.models) == {"popularity", "ease"} and not result.stopped
    assert [(s.model, s.protocol) for s in result.scores][:2] == [
        ("popularity", "strong"),
        ("ease", "strong"),
    ]
    # a stop during EASE keeps popularity (scored and served) and drops the half-trained EASE
    stopped = compare_models(clustered, spec, on_progress=lambda p: "EASE" not in p.message)
    assert stopped.stopped and set(stopped.models) == {"popularity"} and stopped.explainer is not None
    assert {s.model for s in stopped.scores} == {"popularity"} and len(stopped.scores) == 2
    with pytest.raises(InputError, match="unknown model"):
        CompareSpec(models=("nope",))
    bare = Interactions(
        clustered.matrix,
        clustered.user_ids,
        clustered.item_ids,
        clustered.items.assign(title="", categories="", text=""),
    )
    with pytest.raises(InputError, match="content need item metadata"):
        compare_models(bare, CompareSpec(models=("content",)))


def test_als_conjugate_gradient_reaches_the_exact_solve() -> None:
    from domains.services.recommend.factor import als_cg_rows, als_solve_rows

    rng = np.random.default_rng(2)
    matrix = sp.csr_matrix((rng.random((15, 20)) < 0.3).astype(np.float32))
    fixed = rng.normal(size=(20, 6))
    exact = als_solve_rows(matrix, fixed, alpha=5.0, l2=0.5)
    cg = als_cg_rows(matrix, fixed, np.zeros((15, 6)), alpha=5.0, l2=0.5, steps=6)  # exact after F steps
    assert cg == pytest.approx(exact, rel=1e-5, abs=1e-6)


def test_mult_vae_averages_its_networks_and_reports_them_as_one_run(clustered: Interactions) -> None:
    from scipy.special import log_softmax

    from domains.services.recommend.multvae import MultVAE

    reports = []
    model = MultVAE(**{**FAST["mult-vae"], "ensemble": 3}).fit(
        clustered.matrix, on_progress=lambda p: reports.append(p) and None
    )
    assert len(model.nets_) == 3
    per_network = FAST["mult-vae"]["epochs"] * (clustered.n_users // FAST["mult-vae"]["batch_size"])
    assert {p.total for p in reports} == {3 * per_network}
    steps = [p.step for p in reports]
    assert steps == sorted(steps) and steps[-1] > 2 * per_network
    assert reports[-1].message.startswith("network 3 of 3")
    rows = clustered.matrix[:4]
    single = [log_softmax(_only(model, i).score_histories(rows), axis=1) for i in range(3)]
    assert model.score_histories(rows) == pytest.approx(np.mean(single, axis=0), abs=1e-4)
    assert not np.allclose(single[0], single[1], atol=1e-3)  # each network has its own seed


def _only(model, member: int):
    """A shallow copy of an ensemble holding one of its networks."""
    import copy

    one = copy.copy(model)
    one.nets_ = [model.nets_[member]]
    return one


def test_mult_vae_stopped_keeps_the_networks_already_trained(clustered: Interactions) -> None:
    """A Stop in the second network keeps the first whole and drops the half-trained second."""
    from domains.services.recommend.multvae import MultVAE

    def stop_in_second_network(progress) -> bool:
        return not progress.message.startswith("network 2")

    model = MultVAE(**{**FAST["mult-vae"], "ensemble": 3}).fit(
        clustered.matrix, on_progress=stop_in_second_network
    )
    assert len(model.nets_) == 1 and {row["network"] for row in model.history_} == {0.0}
    assert model.recommend([0], n=3)[0].shape == (1, 3)
    at_once = MultVAE(**{**FAST["mult-vae"], "ensemble": 3}).fit(
        clustered.matrix, on_progress=lambda p: False
    )
    assert len(at_once.nets_) == 1  # a model stopped in its first network stays usable
    assert at_once.recommend([0], n=3)[0].shape == (1, 3)


def test_mult_vae_saved_before_ensembles_still_loads(clustered: Interactions, tmp_path: Path) -> None:
    """A bundle from before ensembles holds one network with the paper's decoder, saved directly."""
    from domains.services.recommend.multvae import STORE_KIND, MultVAE
    from shared_models.store import ModelCard, save_model

    old = MultVAE(**{**FAST["mult-vae"], "ensemble": 1, "deep_decoder": True}).fit(clustered.matrix)
    net = old.nets_[0]
    save_model(
        tmp_path / "network",
        net,
        ModelCard(kind=STORE_KIND, config={k: v for k, v in vars(net.config).items() if k != "deep_decoder"}),
    )
    loaded = MultVAE()
    loaded.load_from(tmp_path / "network", clustered.matrix)
    assert loaded.ensemble == 1 and loaded.nets_[0].config.deep_decoder
    assert np.array_equal(loaded.recommend([0, 1], n=5)[0], old.recommend([0, 1], n=5)[0])


def test_content_model_embeds_in_chunks_and_a_stop_leaves_it_usable(
    clustered: Interactions, models: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domains.services.recommend import content

    monkeypatch.setattr(content, "EMBED_CHUNK", 7)  # several chunks on the small set
    texts = clustered.item_texts()
    steps: list[int] = []
    chunked = content.ContentModel().fit(clustered.matrix, texts, lambda p: steps.append(p.step) or True)
    assert steps[:3] == [0, 7, 14] and steps[-1] == len(texts)
    np.testing.assert_allclose(chunked.embeddings_, models["content"].embeddings_, atol=1e-5)
    stopped = content.ContentModel().fit(clustered.matrix, texts, lambda p: p.step < 7)
    assert np.abs(stopped.embeddings_[:7]).sum() > 0 and not stopped.embeddings_[7:].any()
    assert stopped.recommend([0], n=3)[0].shape == (1, 3)
