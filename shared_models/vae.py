"""Convolutional VAE and conditional VAE (Kingma & Welling 2014; Sohn et al. 2015).

Bernoulli or Gaussian likelihood, a beta weight on the KL term, and the ELBO in nats per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from shared_models.exceptions import InputError
from shared_models.images import GenerationOutput, make_grid, resolution_levels
from shared_models.store import register_kind
from shared_models.trainer import Batch, TrainingTask

__all__ = ["VAE", "VAEConfig", "VAETask"]


@dataclass
class VAEConfig:
    """Architecture and objective of a (conditional) VAE.

    Attributes:
        image_size: 28, 32 or 64.
        channels: 1 or 3.
        latent_dim: Size of z.
        num_classes: > 0 makes it a conditional VAE (label given to encoder and decoder).
        attr_dim: > 0 (with num_classes 0) conditions on an attribute vector instead (e.g. several
            one-hot attributes side by side); it enters the networks exactly where the one-hot label does.
        width: Base channel count.
        beta: Weight of the KL term (1 = the true ELBO).
        likelihood: ``"bernoulli"`` (binary / grey images) or ``"gaussian"`` (fixed ``sigma``).
        binarize: Train on images binarised afresh each step (the standard for binarised-MNIST ELBOs).
    """

    image_size: Literal[28, 32, 64] = 28
    channels: int = 1
    latent_dim: int = 16
    num_classes: int = 0
    attr_dim: int = 0
    width: int = 32
    beta: float = 1.0
    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"
    sigma: float = 0.1
    binarize: bool = False
    lr: float = 1e-3

    def __post_init__(self) -> None:
        resolution_levels(self.image_size)  # validates the size
        if self.beta <= 0:
            raise InputError(f"beta must be positive, got {self.beta}")
        if self.num_classes and self.attr_dim:
            raise InputError(
                "condition on a class label (num_classes) or an attribute vector (attr_dim), not both"
            )

    @property
    def cond_width(self) -> int:
        """Width of the condition vector fed to encoder and decoder (0: unconditional)."""
        return self.num_classes or self.attr_dim

    @property
    def levels(self) -> tuple[int, int]:
        return resolution_levels(self.image_size)


class VAE(nn.Module):
    """Encoder q(z|x[,y]) and decoder p(x|z[,y]) built from strided convolutions."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        start, steps = config.levels
        k = config.cond_width
        down: list[nn.Module] = []
        channels, out = config.channels + k, config.width
        for _ in range(steps):
            down += [nn.Conv2d(channels, out, 4, 2, 1), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            channels, out = out, out * 2
        self.encoder = nn.Sequential(*down, nn.Flatten())
        flat = channels * start * start
        self.to_stats = nn.Linear(flat, 2 * config.latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(config.latent_dim + k, flat), nn.ReLU())
        # The label enters every decoder stage (as constant maps), not only z: a decoder that sees
        # it once learns to lean on z instead, and "draw a 7" comes out as some other digit.
        self.up = nn.ModuleList()
        for _ in range(steps):
            out = channels // 2
            self.up.append(
                nn.Sequential(nn.ConvTranspose2d(channels + k, out, 4, 2, 1), nn.BatchNorm2d(out), nn.ReLU())
            )
            channels = out
        self.head = nn.Conv2d(channels + k, config.channels, 3, 1, 1)
        self.start, self.top = start, flat // (start * start)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def attr_dim(self) -> int:
        return self.config.attr_dim

    def _one_hot(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """The condition as a float vector: a one-hot label, or the attribute vector as given."""
        if not self.config.cond_width:
            return None
        if labels is None:
            what = "labels" if self.config.num_classes else "attribute vectors"
            raise InputError(f"a conditional VAE needs {what}")
        if self.config.attr_dim:
            return labels.float()  # (B, A)
        return F.one_hot(labels.long(), self.config.num_classes).float()  # (B, K)

    def encode(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x, y): each ``(B, latent_dim)``.

        ``labels`` are class indices ``(B,)``, or attribute vectors ``(B, attr_dim)`` when ``attr_dim``.
        """
        y = self._one_hot(labels)
        if y is not None:
            x = torch.cat([x, y[:, :, None, None].expand(-1, -1, *x.shape[-2:])], dim=1)
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = self._one_hot(labels)
        if y is not None:
            z = torch.cat([z, y], dim=1)
        h = self.from_latent(z).view(-1, self.top, self.start, self.start)  # (B, top, s, s)
        for block in self.up:
            h = block(self._with_label(h, y))
        return self.head(self._with_label(h, y))  # (B, C, H, W): logits (Bernoulli) or means (Gaussian)

    @staticmethod
    def _with_label(h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:
            return h
        return torch.cat([h, y[:, :, None, None].expand(-1, -1, *h.shape[-2:])], dim=1)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Mean images in [0, 1]."""
        out = self.decode_logits(z, labels)
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out.clamp(0, 1)

    def elbo_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-image reconstruction log-likelihood, KL and ELBO, in nats (one z sample)."""
        mu, logvar = self.encode(x, labels)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + eps * torch.exp(0.5 * logvar)
        out = self.decode_logits(z, labels)
        if self.config.likelihood == "bernoulli":
            log_lik = -F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)
        else:
            sigma = self.config.sigma
            sq = ((out - x) ** 2).flatten(1).sum(1)
            log_lik = -0.5 * sq / sigma**2 - x[0].numel() * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return {"log_lik": log_lik, "kl": kl, "elbo": log_lik - kl}

    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | None = None,
        temperature: float = 1.0,
        seed: int = 0,
        attributes: torch.Tensor | None = None,
    ) -> GenerationOutput:
        """Decode ``n`` draws of z ~ N(0, temperature^2 I); random labels if conditional and none given.

        An attribute-conditioned VAE (``attr_dim``) needs ``attributes``: ``(n, attr_dim)``.
        """
        self.eval()
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.latent_dim, generator=generator) * temperature
        if self.attr_dim:
            if attributes is None:
                raise InputError("this VAE is conditioned on attribute vectors: pass attributes")
            return GenerationOutput(images=self.decode(z, attributes), latents=z)
        if self.num_classes and labels is None:
            labels = torch.randint(self.num_classes, (n,), generator=generator)
        return GenerationOutput(images=self.decode(z, labels), labels=labels, latents=z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior means of ``x``."""
        self.eval()
        mu, _ = self.encode(x, labels)
        return self.decode(mu, labels)


class VAETask(TrainingTask):
    """Maximise the beta-weighted ELBO with Adam."""

    def __init__(self, model: VAE, seed: int = 0, preview_count: int = 40) -> None:
        self.model = model
        self.random = torch.Generator().manual_seed(seed + 1)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=model.config.lr)
        self.preview_count = preview_count
        self._preview_attrs: torch.Tensor | None = None

    def _cond(self, batch: Batch) -> torch.Tensor | None:
        """The batch's condition: labels ``batch[1]``, or attribute vectors ``batch[2]`` (as in GANTask)."""
        config = self.model.config
        if config.attr_dim:
            self._preview_attrs = batch[2][: self.preview_count]
            return batch[2]
        return batch[1] if config.num_classes else None

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        model, config = self.model, self.model.config
        model.train()
        x = batch[0]
        if config.binarize:
            x = torch.bernoulli(x, generator=self.random)
        terms = model.elbo_terms(x, self._cond(batch), self.random)
        loss = -(terms["log_lik"] - config.beta * terms["kl"]).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "kl": terms["kl"].mean().item(), "elbo": terms["elbo"].mean().item()}

    def preview(self) -> object:
        model = self.model
        if model.attr_dim:
            if self._preview_attrs is None:
                return None
            attrs = self._preview_attrs
            return make_grid(model.sample(len(attrs), attributes=attrs, seed=0).images)
        if model.num_classes:
            per = max(1, self.preview_count // model.num_classes)
            labels = torch.arange(model.num_classes).repeat_interleave(per)
            return make_grid(model.sample(len(labels), labels=labels, seed=0).images, nrow=per)
        return make_grid(model.sample(self.preview_count, seed=0).images)


register_kind("vae", lambda config: VAE(VAEConfig(**config)))
