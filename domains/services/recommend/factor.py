"""Matrix-factorisation recommenders: implicit ALS (Hu, Koren & Volinsky 2008) and BPR-MF (Rendle
et al. 2009).

Both learn user and item vectors. A user unseen in training is folded in with the item vectors
fixed: ALS solves the user's least-squares problem exactly; BPR runs a few hundred BPR steps on the
user's vector alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from domains.services.recommend.base import Recommender, register, report
from shared_models.exceptions import InputError
from shared_models.progress import ProgressCallback
from shared_models.trainer import Batch, TrainConfig, TrainingTask, seed_everything, train

__all__ = ["ALS", "BPR", "als_cg_rows", "als_solve_rows"]


def als_solve_rows(matrix: sp.csr_matrix, fixed: np.ndarray, alpha: float, l2: float) -> np.ndarray:
    """Exact ALS update of every row's vector given the other side's vectors ``fixed``.

    Hu et al.'s objective with preference 1 on observed entries and confidence ``1 + alpha * r``:
    row ``u`` solves ``(F^T F + F_u^T (C_u - I) F_u + l2 I) x = F_u^T C_u 1``.
    """
    factors = fixed.shape[1]
    gram = fixed.T @ fixed + l2 * np.eye(factors)
    out = np.zeros((matrix.shape[0], factors))
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for row in range(matrix.shape[0]):
        cols = indices[indptr[row] : indptr[row + 1]]
        if cols.size == 0:
            continue
        confidence = 1.0 + alpha * data[indptr[row] : indptr[row + 1]].astype(np.float64)
        sub = fixed[cols]
        a = gram + (sub.T * (confidence - 1.0)) @ sub
        b = sub.T @ confidence
        out[row] = np.linalg.solve(a, b)
    return out


def als_cg_rows(
    matrix: sp.csr_matrix, fixed: np.ndarray, current: np.ndarray, alpha: float, l2: float, steps: int = 3
) -> np.ndarray:
    """The same update by a few conjugate-gradient steps from ``current``, for all rows at once.

    Each product ``A_u p_u`` only touches the row's nonzeros (``O(nnz * factors)``), as in Takács et
    al. (2011) and the `implicit` library; warm-started from the previous sweep, 3 steps suffice.
    """
    coo = matrix.tocoo()
    confidence = 1.0 + alpha * coo.data.astype(np.float64)
    gram = fixed.T @ fixed + l2 * np.eye(fixed.shape[1])
    fixed_at = fixed[coo.col]  # (nnz, F)

    def apply(vectors: np.ndarray) -> np.ndarray:
        dots = np.einsum("nf,nf->n", vectors[coo.row], fixed_at) * (confidence - 1.0)
        return vectors @ gram + sp.csr_matrix((dots, (coo.row, coo.col)), shape=matrix.shape) @ fixed

    target = sp.csr_matrix((confidence, (coo.row, coo.col)), shape=matrix.shape) @ fixed
    x = current.copy()
    residual = target - apply(x)
    direction = residual.copy()
    norm = np.einsum("uf,uf->u", residual, residual)
    for _ in range(steps):
        applied = apply(direction)
        curvature = np.einsum("uf,uf->u", direction, applied)
        step = np.divide(norm, curvature, out=np.zeros_like(norm), where=curvature > 1e-20)
        x += step[:, None] * direction
        residual -= step[:, None] * applied
        new_norm = np.einsum("uf,uf->u", residual, residual)
        ratio = np.divide(new_norm, norm, out=np.zeros_like(norm), where=norm > 1e-20)
        direction = residual + ratio[:, None] * direction
        norm = new_norm
    return x


@register
class ALS(Recommender):
    """Implicit-feedback ALS with exact alternating solves.

    Args:
        factors: Vector size.
        l2: Ridge weight on the vectors.
        alpha: Confidence slope: an observed entry weighs ``1 + alpha`` against 1 for a missing one.
        iterations: Alternating sweeps (users, then items).
        cg_steps: Conjugate-gradient steps per half-sweep (0: exact solves, slower).
        random_state: Seeds the initial vectors.
    """

    name = "als"
    label = "ALS"

    def __init__(
        self,
        factors: int = 64,
        l2: float = 0.1,
        alpha: float = 10.0,
        iterations: int = 15,
        cg_steps: int = 3,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.l2 = l2
        self.alpha = alpha
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.random_state = random_state

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        if self.factors < 1 or self.iterations < 1 or self.alpha < 0 or self.l2 < 0:
            raise InputError("ALS needs factors >= 1, iterations >= 1, alpha >= 0 and l2 >= 0")
        rng = np.random.default_rng(self.random_state)
        self.item_factors_ = rng.normal(0, 0.01, (matrix.shape[1], self.factors))
        self.user_factors_ = np.zeros((matrix.shape[0], self.factors))
        transposed = matrix.T.tocsr()
        for sweep in range(self.iterations):
            self.user_factors_ = self._update(matrix, self.item_factors_, self.user_factors_)
            self.item_factors_ = self._update(transposed, self.user_factors_, self.item_factors_)
            if report(on_progress, stop, sweep + 1, self.iterations, "alternating least squares"):
                break
        # a stop between the two half-sweeps must not leave users out of step with items
        self.user_factors_ = self._update(matrix, self.item_factors_, self.user_factors_)

    def _update(self, matrix: sp.csr_matrix, fixed: np.ndarray, current: np.ndarray) -> np.ndarray:
        if self.cg_steps <= 0:
            return als_solve_rows(matrix, fixed, self.alpha, self.l2)
        return als_cg_rows(matrix, fixed, current, self.alpha, self.l2, self.cg_steps)

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        users = als_solve_rows(sp.csr_matrix(histories), self.item_factors_, self.alpha, self.l2)
        return users @ self.item_factors_.T

    def item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_ = train
        self.user_factors_, self.item_factors_ = arrays["user_factors"], arrays["item_factors"]


class BPRTask(TrainingTask):
    """One BPR step: for each (user, positive item) pair, a uniformly sampled negative item."""

    def __init__(
        self,
        users: nn.Embedding,
        items: nn.Embedding,
        bias: nn.Embedding,
        lr: float,
        l2: float,
        seed: int,
        train_items: bool = True,
    ) -> None:
        self.users, self.items, self.bias, self.l2 = users, items, bias, l2
        params = [users.weight, items.weight, bias.weight] if train_items else [users.weight]
        self.optimizer = torch.optim.Adam(params, lr=lr)
        self.generator = torch.Generator().manual_seed(seed)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        user, positive = batch
        negative = torch.randint(0, self.items.num_embeddings, positive.shape, generator=self.generator)
        u, i, j = self.users(user), self.items(positive), self.items(negative)  # (B, F) each
        margin = (u * (i - j)).sum(-1) + self.bias(positive).squeeze(-1) - self.bias(negative).squeeze(-1)
        regulariser = self.l2 * (u.pow(2).sum(-1) + i.pow(2).sum(-1) + j.pow(2).sum(-1)).mean()
        loss = -F.logsigmoid(margin).mean() + regulariser
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"bpr_loss": float(loss.detach())}


def _pairs(matrix: sp.csr_matrix) -> tuple[torch.Tensor, torch.Tensor]:
    coo = matrix.tocoo()
    return torch.as_tensor(coo.row, dtype=torch.long), torch.as_tensor(coo.col, dtype=torch.long)


@register
class BPR(Recommender):
    """BPR matrix factorisation trained with the suite's shared trainer (Adam, uniform negatives).

    Args:
        factors: Vector size.
        epochs: Passes over the positive pairs.
        batch_size: Pairs per step.
        lr: Adam learning rate.
        l2: Weight decay on the vectors in each batch.
        random_state: Seeds initial vectors and negative sampling.
    """

    name = "bpr"
    label = "BPR-MF"

    def __init__(
        self,
        factors: int = 64,
        epochs: int = 20,
        batch_size: int = 2048,
        lr: float = 0.01,
        l2: float = 1e-4,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.l2 = l2
        self.random_state = random_state

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        if self.factors < 1 or self.epochs < 1:
            raise InputError("BPR needs factors >= 1 and epochs >= 1")
        seed_everything(self.random_state)
        users = nn.Embedding(matrix.shape[0], self.factors)
        items = nn.Embedding(matrix.shape[1], self.factors)
        bias = nn.Embedding(matrix.shape[1], 1)
        for table in (users, items):
            nn.init.normal_(table.weight, std=0.1)
        nn.init.zeros_(bias.weight)
        pairs = _pairs(matrix)
        steps = self.epochs * max(1, -(-matrix.nnz // self.batch_size))
        config = TrainConfig(steps=steps, batch_size=self.batch_size, seed=self.random_state, log_every=50)
        task = BPRTask(users, items, bias, self.lr, self.l2, self.random_state)
        self.history_ = train(task, pairs, config, on_progress, stop).history
        self.user_factors_ = users.weight.detach().numpy().copy()
        self.item_factors_ = items.weight.detach().numpy().copy()
        self.item_bias_ = bias.weight.detach().numpy().ravel().copy()

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T + self.item_bias_[None, :]

    def score_histories(self, histories: sp.csr_matrix, steps: int = 150) -> np.ndarray:
        """Fold-in: fit only the new users' vectors by BPR against the fixed item vectors."""
        histories = sp.csr_matrix(histories)
        torch.manual_seed(self.random_state)
        users = nn.Embedding(histories.shape[0], self.factors)
        nn.init.normal_(users.weight, std=0.1)
        items = nn.Embedding.from_pretrained(torch.as_tensor(self.item_factors_), freeze=True)
        bias = nn.Embedding.from_pretrained(torch.as_tensor(self.item_bias_[:, None]), freeze=True)
        if histories.nnz:
            task = BPRTask(users, items, bias, 0.05, self.l2, self.random_state, train_items=False)
            pairs = _pairs(histories)
            config = TrainConfig(steps=steps, batch_size=max(1, pairs[0].numel()), seed=self.random_state)
            train(task, pairs, config)
        return users.weight.detach().numpy() @ self.item_factors_.T + self.item_bias_[None, :]

    def item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "item_bias": self.item_bias_,
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_ = train
        self.user_factors_ = arrays["user_factors"]
        self.item_factors_ = arrays["item_factors"]
        self.item_bias_ = arrays["item_bias"]
