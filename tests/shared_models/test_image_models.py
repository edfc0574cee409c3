"""One shared test class, parametrised over every image model variant of the core."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shared_models.gan import GAN, GANConfig, GANTask
from shared_models.store import ModelCard, load_model, save_model
from shared_models.trainer import TrainConfig, train
from shared_models.vae import VAE, VAEConfig, VAETask

TINY = {"width": 8}
VARIANTS = {
    "gan-28-hinge": lambda: GAN(GANConfig(image_size=28, latent_dim=8, **TINY)),
    "cgan-32-projection-aux": lambda: GAN(
        GANConfig(image_size=32, latent_dim=8, num_classes=3, aux_weight=0.5, **TINY)
    ),
    "cgan-28-concat-nonsat": lambda: GAN(
        GANConfig(
            image_size=28,
            latent_dim=8,
            num_classes=3,
            conditioning="concat",
            loss="nonsaturating",
            spectral_norm=False,
            **TINY,
        )
    ),
    "attr-gan-64-rgb": lambda: GAN(GANConfig(image_size=64, channels=3, latent_dim=8, attr_dim=5, **TINY)),
    "vae-28": lambda: VAE(VAEConfig(image_size=28, latent_dim=4, **TINY)),
    "attr-vae-32-rgb": lambda: VAE(VAEConfig(image_size=32, channels=3, latent_dim=4, attr_dim=5, **TINY)),
    "cvae-32-rgb-gaussian": lambda: VAE(
        VAEConfig(image_size=32, channels=3, latent_dim=4, num_classes=3, likelihood="gaussian", **TINY)
    ),
}


def _batch(model: GAN | VAE, n: int = 8) -> tuple[torch.Tensor, ...]:
    cfg = model.config
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(n, cfg.channels, cfg.image_size, cfg.image_size, generator=generator)
    labels = torch.arange(n) % max(cfg.num_classes, 1)
    attributes = torch.rand(n, getattr(cfg, "attr_dim", 0) or 1, generator=generator)
    return images, labels, attributes


def _sample(model: GAN | VAE, n: int, seed: int) -> torch.Tensor:
    if getattr(model.config, "attr_dim", 0):
        return model.sample(n, seed=seed, attributes=_batch(model, n)[2]).images
    return model.sample(n, seed=seed).images


def _task(model: GAN | VAE) -> GANTask | VAETask:
    return GANTask(model, seed=0) if isinstance(model, GAN) else VAETask(model, seed=0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
class TestImageModel:
    def test_samples_have_the_configured_shape_and_range(self, variant: str) -> None:
        torch.manual_seed(0)
        model = VARIANTS[variant]()
        images = _sample(model, 5, seed=1)
        cfg = model.config
        assert images.shape == (5, cfg.channels, cfg.image_size, cfg.image_size)
        assert images.min() >= 0 and images.max() <= 1

    def test_sampling_is_deterministic_per_seed(self, variant: str) -> None:
        torch.manual_seed(0)
        model = VARIANTS[variant]()
        assert torch.equal(_sample(model, 4, seed=7), _sample(model, 4, seed=7))
        assert not torch.equal(_sample(model, 4, seed=7), _sample(model, 4, seed=8))

    def test_training_steps_change_the_model_and_are_repeatable(self, variant: str) -> None:
        def trained() -> GAN | VAE:
            torch.manual_seed(0)
            model = VARIANTS[variant]()
            result = train(_task(model), _batch(model), TrainConfig(steps=2, batch_size=4, log_every=1))
            assert result.steps == 2 and all(
                torch.isfinite(torch.tensor(v)) for v in result.history[-1].values()
            )
            return model

        first, second = trained(), trained()
        torch.manual_seed(0)
        untouched = VARIANTS[variant]()
        assert torch.equal(_sample(first, 3, 0), _sample(second, 3, 0))
        assert not torch.equal(_sample(first, 3, 0), _sample(untouched, 3, 0))

    def test_save_load_round_trip_samples_identically(self, variant: str, tmp_path: Path) -> None:
        torch.manual_seed(0)
        model = VARIANTS[variant]()
        train(_task(model), _batch(model), TrainConfig(steps=1, batch_size=4))
        kind = "gan" if isinstance(model, GAN) else "vae"
        from dataclasses import asdict

        folder = save_model(tmp_path / variant, model, ModelCard(kind=kind, config=asdict(model.config)))
        loaded, card = load_model(folder)
        assert card.kind == kind
        assert torch.equal(_sample(model.eval(), 4, 3), _sample(loaded, 4, 3))
