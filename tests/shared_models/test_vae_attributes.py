"""The VAE conditioned on attribute vectors (``attr_dim``), beside its class-label conditioning."""

from __future__ import annotations

import pytest
import torch

from shared_models.exceptions import InputError
from shared_models.vae import VAE, VAEConfig


def test_attribute_vae_needs_attributes_and_uses_them() -> None:
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_size=32, channels=3, latent_dim=4, attr_dim=5, width=8)).eval()
    with pytest.raises(InputError, match="pass attributes"):
        model.sample(2)
    z = torch.zeros(2, 4)
    a, b = torch.eye(5)[:2], torch.eye(5)[2:4]
    assert model.decode(z, a).shape == (2, 3, 32, 32)
    assert not torch.allclose(model.decode(z, a), model.decode(z, b))  # the condition matters
    mu, logvar = model.encode(torch.rand(2, 3, 32, 32), a)
    assert mu.shape == logvar.shape == (2, 4)


def test_label_and_attribute_conditioning_do_not_mix() -> None:
    with pytest.raises(InputError, match="not both"):
        VAEConfig(num_classes=3, attr_dim=5)
    assert VAEConfig(num_classes=3).cond_width == 3 and VAEConfig().cond_width == 0
