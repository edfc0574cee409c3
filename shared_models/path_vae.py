"""A conditional VAE for multivariate time-series paths (Sohn et al. 2015, on sequences).

It learns ``p(x | c)`` where ``x`` is the next ``horizon`` steps of ``channels`` series and ``c`` a
condition vector (typically the previous steps and state features). Long paths are drawn block by
block, feeding generated steps back into the condition. The decoder's likelihood is a Student-t with a
learned degrees-of-freedom per channel, so heavy tails need not come from the latent alone.

Example:
    >>> model = PathVAE(PathVAEConfig(channels=2, horizon=10, condition_dim=42))
    >>> paths = model.sample(condition)  # (B, 10, 2)
"""

from __future__ import annotations

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
        c, h, out = config.condition_dim, config.hidden, config.horizon * config.channels
        self.condition = _mlp([c, h, h])  # (B, C) -> (B, h)
        self.encoder = _mlp([out + h, h, 2 * config.latent_dim])  # q(z | x, c)
        self.decoder = _mlp([config.latent_dim + h, h, h, 2 * out])  # p(x | z, c): loc and log-scale
        self.raw_dof = nn.Parameter(torch.full((config.channels,), 1.5))

    @property
    def dof(self) -> torch.Tensor:
        return self.config.min_dof + F.softplus(self.raw_dof)  # (channels,)

    def _decode(self, z: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        loc, log_scale = self.decoder(torch.cat([z, hidden], dim=1)).chunk(2, dim=1)
        shape = (-1, cfg.horizon, cfg.channels)
        return loc.reshape(shape), log_scale.clamp(-7, 4).reshape(shape)  # (B, H, A) each

    def loss(self, x: torch.Tensor, condition: torch.Tensor) -> dict[str, torch.Tensor]:
        """Negative ELBO per example: Student-t reconstruction NLL plus beta * KL.

        Args:
            x: (B, horizon, channels) target steps.
            condition: (B, condition_dim).
        """
        hidden = self.condition(condition)
        mean, log_var = self.encoder(torch.cat([x.flatten(1), hidden], dim=1)).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        loc, log_scale = self._decode(z, hidden)
        likelihood = torch.distributions.StudentT(self.dof, loc, torch.exp(log_scale))
        nll = -likelihood.log_prob(x).flatten(1).sum(1).mean()
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        return {"loss": nll + self.config.beta * kl, "nll": nll, "kl": kl}

    @torch.no_grad()
    def sample(self, condition: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """One block of ``horizon`` steps per condition row: (B, horizon, channels).

        Draws from torch's global generator (Student-t sampling takes no generator argument); wrap
        calls in ``torch.random.fork_rng`` + ``torch.manual_seed`` for reproducible paths.
        """
        hidden = self.condition(condition)
        z = torch.randn(condition.shape[0], self.config.latent_dim, dtype=condition.dtype)
        loc, log_scale = self._decode(z * temperature, hidden)
        likelihood = torch.distributions.StudentT(self.dof.expand_as(loc), loc, torch.exp(log_scale))
        return likelihood.sample()


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
