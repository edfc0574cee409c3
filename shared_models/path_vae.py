"""A conditional VAE for multivariate time-series paths (Sohn et al. 2015, on sequences).

It learns ``p(x | c)`` where ``x`` is the next ``horizon`` steps of ``channels`` series and ``c`` a
condition vector (typically the previous steps and state features). Long paths are drawn block by
block, feeding generated steps back into the condition. Each step's likelihood is a multivariate
Student-t whose location, scales and Cholesky factor (so the channels' co-movement) come from the
decoder, with learned degrees of freedom: heavy tails and correlation need not come from z alone.

Example:
    >>> model = PathVAE(PathVAEConfig(channels=2, horizon=10, condition_dim=42))
    >>> paths = model.sample(condition)  # (B, 10, 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from shared_models.exceptions import InputError
from shared_models.store import register_kind
from shared_models.trainer import Batch, TrainingTask

__all__ = ["PathVAE", "PathVAEConfig", "PathVAETask"]


@dataclass
class PathVAEConfig:
    """Shape and objective of a path VAE.

    Attributes:
        channels: Series per step (assets).
        horizon: Steps generated per block.
        condition_dim: Length of the condition vector.
        latent_dim: Size of z.
        hidden: Width of the hidden layers.
        beta: Weight of the KL term.
        min_dof: Lower bound of the Student-t degrees of freedom (keeps the variance finite).
        lr: Adam learning rate.
    """

    channels: int = 1
    horizon: int = 10
    condition_dim: int = 20
    latent_dim: int = 8
    hidden: int = 128
    beta: float = 1.0
    min_dof: float = 2.5
    lr: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("channels", "horizon", "condition_dim", "latent_dim", "hidden"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.beta <= 0 or self.min_dof <= 2:
            raise InputError("beta must be positive and min_dof above 2")


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class PathVAE(nn.Module):
    def __init__(self, config: PathVAEConfig) -> None:
        super().__init__()
        self.config = config
        c, h, a = config.condition_dim, config.hidden, config.channels
        out = config.horizon * a
        self.lower = a * (a - 1) // 2  # strictly-lower Cholesky entries per step: co-movement of channels
        self.condition = _mlp([c, h, h])  # (B, C) -> (B, h)
        self.encoder = _mlp([out + h, h, 2 * config.latent_dim])  # q(z | x, c)
        self.decoder = _mlp([config.latent_dim + h, h, h, config.horizon * (2 * a + self.lower)])
        self.raw_dof = nn.Parameter(torch.tensor(1.5))
        rows, cols = torch.tril_indices(a, a, offset=-1)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)

    @property
    def dof(self) -> torch.Tensor:
        return self.config.min_dof + F.softplus(self.raw_dof)  # scalar: one multivariate-t per step

    def _decode(
        self, z: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Location (B, H, A), log-scales (B, H, A) and Cholesky factors (B, H, A, A) of each step."""
        cfg, a = self.config, self.config.channels
        raw = self.decoder(torch.cat([z, hidden], dim=1)).reshape(-1, cfg.horizon, 2 * a + self.lower)
        loc, log_scale, lower = raw[..., :a], raw[..., a : 2 * a].clamp(-7, 4), raw[..., 2 * a :]
        factor = torch.diag_embed(torch.exp(log_scale))
        if self.lower:
            strictly_lower = torch.zeros_like(factor)
            strictly_lower[..., self._rows, self._cols] = lower
            factor = factor + strictly_lower
        return loc, log_scale, factor

    def _log_prob(
        self, x: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor, factor: torch.Tensor
    ) -> torch.Tensor:
        """Multivariate Student-t log-density of each step: (B, H)."""
        d, nu = self.config.channels, self.dof
        white = torch.linalg.solve_triangular(factor, (x - loc).unsqueeze(-1), upper=False).squeeze(-1)
        mahalanobis = white.pow(2).sum(-1)
        return (
            torch.lgamma((nu + d) / 2)
            - torch.lgamma(nu / 2)
            - d / 2 * torch.log(nu * math.pi)
            - log_scale.sum(-1)
            - (nu + d) / 2 * torch.log1p(mahalanobis / nu)
        )

    def loss(self, x: torch.Tensor, condition: torch.Tensor) -> dict[str, torch.Tensor]:
        """Negative ELBO per example: multivariate Student-t reconstruction NLL plus beta * KL.

        Args:
            x: (B, horizon, channels) target steps.
            condition: (B, condition_dim).
        """
        hidden = self.condition(condition)
        mean, log_var = self.encoder(torch.cat([x.flatten(1), hidden], dim=1)).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        nll = -self._log_prob(x, *self._decode(z, hidden)).sum(1).mean()
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        return {"loss": nll + self.config.beta * kl, "nll": nll, "kl": kl}

    @torch.no_grad()
    def sample(self, condition: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """One block of ``horizon`` steps per condition row: (B, horizon, channels).

        Draws from torch's global generator (chi-square sampling takes no generator argument); wrap
        calls in ``torch.random.fork_rng`` + ``torch.manual_seed`` for reproducible paths.
        """
        hidden = self.condition(condition)
        z = torch.randn(condition.shape[0], self.config.latent_dim, dtype=condition.dtype)
        loc, _, factor = self._decode(z * temperature, hidden)
        normal = torch.randn(loc.shape, dtype=loc.dtype)
        mixing = (
            torch.distributions.Chi2(self.dof).sample(loc.shape[:2]).unsqueeze(-1) / self.dof
        )  # (B, H, 1)
        return loc + (factor @ normal.unsqueeze(-1)).squeeze(-1) / torch.sqrt(mixing)


class PathVAETask(TrainingTask):
    """Adam on the negative ELBO; batches are ``(x, condition)``."""

    def __init__(self, model: PathVAE) -> None:
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=model.config.lr)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        x, condition = batch
        self.model.train()
        losses = self.model.loss(x, condition)
        self.optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        return {k: float(v.detach()) for k, v in losses.items()}


register_kind("path_vae", lambda cfg: PathVAE(PathVAEConfig(**cfg)))
