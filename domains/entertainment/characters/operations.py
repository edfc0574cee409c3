"""What a designer does with a trained generator: generate, vary, blend, upscale.

A character is a latent code plus its attributes; decoding both gives its picture, so a character
picked from one grid can be varied (codes near its own, same attributes) or blended with another
(a straight line between the two codes and the two attribute vectors).

Example:
    >>> batch = generate(model, 16, {"hair": "red", "outfit": "armour"}, seed=0)
    >>> near = variations(model, batch, index=3, n=8)
    >>> strip = blend(model, batch, 0, batch, 5, steps=8)
    >>> big = upscale(batch.images, 8)     # (16, 256, 256, 4), crisp pixels
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from domains.entertainment.characters.models import CharacterModel
from domains.entertainment.characters.sprites import (
    ATTRIBUTES,
    attribute_codes,
    attribute_vectors,
    random_attributes,
    to_rgba,
)
from shared_models.exceptions import InputError

__all__ = ["MAX_CHARACTERS", "Characters", "blend", "decode", "generate", "upscale", "variations"]

MAX_CHARACTERS = 256


@dataclass
class Characters:
    """Generated characters.

    Attributes:
        images: ``(N, 32, 32, 4)`` uint8 RGBA (transparent background).
        attributes: Each character's full attributes.
        latents: ``(N, latent_dim)`` codes they were decoded from.
        raw: ``(N, 3, 32, 32)`` float decoder output in [0, 1] over the key colour (for metrics).
    """

    images: np.ndarray
    attributes: list[dict[str, str]]
    latents: torch.Tensor
    raw: torch.Tensor

    def __len__(self) -> int:
        return len(self.attributes)

    def take(self, indices: list[int]) -> Characters:
        """The characters at ``indices`` (e.g. the favourites)."""
        for i in indices:
            if not 0 <= i < len(self):
                raise InputError(f"there is no character {i}; pick 0..{len(self) - 1}")
        index = torch.tensor(indices, dtype=torch.long)
        return Characters(
            images=self.images[indices],
            attributes=[self.attributes[i] for i in indices],
            latents=self.latents[index],
            raw=self.raw[index],
        )

    def to_json(self) -> list[dict[str, Any]]:
        """Attributes and latent codes: enough to decode the same characters again."""
        return [
            {"attributes": attrs, "latent": [round(float(v), 6) for v in z]}
            for attrs, z in zip(self.attributes, self.latents, strict=True)
        ]


def _check_count(n: int) -> None:
    if not 1 <= n <= MAX_CHARACTERS:
        raise InputError(f"ask for between 1 and {MAX_CHARACTERS} characters, not {n}")


@torch.no_grad()
def _decode_vectors(model: CharacterModel, latents: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    model.eval()
    return model.decode(latents, vectors)  # (N, 3, 32, 32) in [0, 1]


def decode(model: CharacterModel, latents: torch.Tensor, attributes: list[dict[str, str]]) -> Characters:
    """Draw the characters given by latent codes and full attribute sets."""
    if latents.ndim != 2 or latents.shape[1] != model.latent_dim:
        raise InputError(f"latent codes must be (N, {model.latent_dim}), got {tuple(latents.shape)}")
    if len(attributes) != latents.shape[0]:
        raise InputError(f"{latents.shape[0]} latent codes but {len(attributes)} attribute sets")
    vectors = attribute_vectors(attribute_codes(attributes))
    raw = _decode_vectors(model, latents.float(), vectors)
    return Characters(images=to_rgba(raw), attributes=attributes, latents=latents.float(), raw=raw)


def generate(
    model: CharacterModel,
    n: int,
    chosen: dict[str, str] | None = None,
    seed: int = 0,
    temperature: float = 1.0,
) -> Characters:
    """Generate ``n`` characters with the chosen attributes; unset attributes vary between them.

    Args:
        model: A trained character generator.
        n: How many (1..256).
        chosen: ``{attribute: value}`` to hold fixed, e.g. ``{"hair": "red"}``; None or missing = vary.
        seed: Same seed, same characters.
        temperature: Scales the latent noise (below 1: more typical characters).

    Returns:
        The `Characters`, with every character's full attributes.
    """
    _check_count(n)
    if not 0 < temperature <= 2:
        raise InputError(f"temperature must be in (0, 2], got {temperature}")
    rng = np.random.default_rng(seed)
    attributes = [random_attributes(rng, chosen) for _ in range(n)]
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(n, model.latent_dim, generator=generator) * temperature
    return decode(model, latents, attributes)


def variations(
    model: CharacterModel, characters: Characters, index: int, n: int = 8, spread: float = 0.5, seed: int = 0
) -> Characters:
    """``n`` characters near character ``index``: same attributes, latent codes within ``spread``."""
    _check_count(n)
    if not 0 < spread <= 2:
        raise InputError(f"spread must be in (0, 2], got {spread}")
    base = characters.take([index])
    generator = torch.Generator().manual_seed(seed)
    latents = base.latents + spread * torch.randn(n, model.latent_dim, generator=generator)
    return decode(model, latents, base.attributes * n)


def blend(
    model: CharacterModel, first: Characters, i: int, second: Characters, j: int, steps: int = 8
) -> Characters:
    """A strip of ``steps`` characters from ``first[i]`` to ``second[j]``.

    Latent codes and attribute vectors are interpolated together; each frame is labelled with the
    attribute values that dominate its mixed vector.
    """
    if not 2 <= steps <= 32:
        raise InputError(f"steps must be between 2 and 32, got {steps}")
    a, b = first.take([i]), second.take([j])
    weights = torch.linspace(0, 1, steps)[:, None]  # (S, 1)
    latents = (1 - weights) * a.latents + weights * b.latents
    va = attribute_vectors(attribute_codes(a.attributes))
    vb = attribute_vectors(attribute_codes(b.attributes))
    vectors = (1 - weights) * va + weights * vb  # (S, A): mixed one-hot blocks
    raw = _decode_vectors(model, latents, vectors)
    labels = [_dominant(v) for v in vectors]
    return Characters(images=to_rgba(raw), attributes=labels, latents=latents, raw=raw)


def _dominant(vector: torch.Tensor) -> dict[str, str]:
    out, start = {}, 0
    for name, values in ATTRIBUTES.items():
        out[name] = values[int(vector[start : start + len(values)].argmax())]
        start += len(values)
    return out


def upscale(images: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge ``(..., H, W, C)`` pixel art by an integer ``factor`` without blurring (nearest neighbour)."""
    if not 1 <= factor <= 32:
        raise InputError(f"factor must be between 1 and 32, got {factor}")
    return images.repeat(factor, axis=-3).repeat(factor, axis=-2)
