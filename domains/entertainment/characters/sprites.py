"""The procedural character set: layered 32x32 RGBA pixel-art sprites drawn from labelled parts.

Every sprite is composed from parts (legs, body, outfit, head, face, hair, accessory) whose shape and
colour follow its attributes; a seed adds the nuisance variation a real set has (a shade jitter per
part and a one-pixel bob), so the set holds far more distinct images than attribute combinations.
The attributes are both the training labels and the user's controls.

The generators train on RGB over a fixed key colour (`KEY_COLOUR`, a magenta no part uses) rather than
on four channels: a network's alpha output would blur into half-transparent fringes, while a key colour
gives clean cut-outs back (`to_rgba` marks pixels near the key transparent).

Example:
    >>> sprite = draw_sprite({"hair": "red", "outfit": "armour", ...}, seed=3)
    >>> sprite.image.shape, sprite.layers["hair"].shape
    ((32, 32, 4), (32, 32, 4))
    >>> data = make_character_set(4096, seed=0)
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from shared_models.exceptions import InputError

__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_DIM",
    "KEY_COLOUR",
    "SPRITE_SIZE",
    "CharacterSet",
    "Sprite",
    "attribute_codes",
    "attribute_vectors",
    "check_attributes",
    "draw_sprite",
    "make_character_set",
    "random_attributes",
    "to_rgba",
]

SPRITE_SIZE = 32
# The controls, in a fixed order: each attribute's values are one-hot blocks of the condition vector.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "body": ("slim", "broad"),
    "skin": ("light", "tan", "brown", "dark"),
    "hair_style": ("short", "long", "spiky"),
    "hair": ("black", "brown", "blonde", "red", "blue"),
    "outfit": ("tunic", "armour", "robe"),
    "outfit_colour": ("red", "green", "blue", "purple"),
    "accessory": ("none", "hat", "glasses"),
    "expression": ("happy", "neutral", "angry"),
}
ATTRIBUTE_DIM = sum(len(v) for v in ATTRIBUTES.values())
KEY_COLOUR = (255, 0, 255)
# Layers are painted in this order; later ones cover earlier ones.
LAYER_ORDER = ("legs", "body", "outfit", "head", "face", "hair", "accessory")

SKIN = {"light": (241, 194, 156), "tan": (208, 156, 104), "brown": (150, 98, 60), "dark": (92, 58, 38)}
HAIR = {
    "black": (34, 30, 32),
    "brown": (112, 68, 30),
    "blonde": (238, 204, 88),
    "red": (204, 52, 32),
    "blue": (58, 92, 214),
}
CLOTH = {"red": (178, 36, 48), "green": (44, 138, 58), "blue": (36, 66, 168), "purple": (122, 56, 162)}
TROUSERS, BOOTS, BELT, BUCKLE = (72, 62, 56), (42, 30, 24), (96, 62, 30), (210, 180, 60)
HAT, FRAME, EYE, BROW, MOUTH = (84, 96, 72), (24, 24, 28), (20, 20, 34), (46, 32, 28), (128, 30, 36)
BLUSH = (236, 118, 140)


@dataclass
class Sprite:
    """One character: its attributes, its labelled part layers and the composite image.

    Attributes:
        attributes: ``{attribute: value}`` for every attribute in `ATTRIBUTES`.
        layers: ``{part: (32, 32, 4) uint8 RGBA}``, each part on its own transparent layer.
        image: ``(32, 32, 4)`` uint8 RGBA composite (transparent background).
    """

    attributes: dict[str, str]
    layers: dict[str, np.ndarray]
    image: np.ndarray


def check_attributes(attributes: dict[str, Any], complete: bool = False) -> dict[str, str]:
    """Validate chosen attributes (names and values); ``complete`` requires all of them.

    Raises:
        InputError: An unknown attribute or value, or (with ``complete``) a missing attribute.
    """
    clean: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in ATTRIBUTES:
            raise InputError(f"unknown attribute {name!r}; available: {list(ATTRIBUTES)}")
        if value is None:
            continue
        if value not in ATTRIBUTES[name]:
            raise InputError(f"unknown {name} {value!r}; choose one of {list(ATTRIBUTES[name])}")
        clean[name] = str(value)
    if complete and len(clean) != len(ATTRIBUTES):
        raise InputError(f"missing attributes: {[a for a in ATTRIBUTES if a not in clean]}")
    return clean


def random_attributes(rng: np.random.Generator, fixed: dict[str, str] | None = None) -> dict[str, str]:
    """All attributes: the ``fixed`` ones as given, the others drawn uniformly."""
    fixed = check_attributes(fixed or {})
    return {name: fixed.get(name) or str(rng.choice(values)) for name, values in ATTRIBUTES.items()}


def attribute_codes(attributes: list[dict[str, str]]) -> torch.Tensor:
    """``(N, len(ATTRIBUTES))`` long: each attribute's value index."""
    return torch.tensor([[ATTRIBUTES[a].index(row[a]) for a in ATTRIBUTES] for row in attributes])


def attribute_vectors(codes: torch.Tensor) -> torch.Tensor:
    """``(N, ATTRIBUTE_DIM)`` float: one one-hot block per attribute (the generators' condition)."""
    blocks = [
        torch.nn.functional.one_hot(codes[:, i], len(values)).float()
        for i, values in enumerate(ATTRIBUTES.values())
    ]
    return torch.cat(blocks, dim=1)


Colour = tuple[int, int, int] | str  # an RGB triple, or a slot filled per sprite ("skin", "hair", ...)
SLOTS = ("skin", "hair", "cloth", "cloth_light", "trousers")
FIXED = (BOOTS, BELT, BUCKLE, HAT, FRAME, EYE, BROW, MOUTH, BLUSH)
# Index 0 is transparent, then the per-sprite slots, then the fixed colours.
PALETTE_INDEX: dict[Colour, int] = {c: i + 1 for i, c in enumerate((*SLOTS, *FIXED))}


class _Canvas:
    """A part as a map of palette indices (0 = transparent), shifted down by the sprite's bob."""

    def __init__(self, dy: int) -> None:
        self.index = np.zeros((SPRITE_SIZE, SPRITE_SIZE), np.uint8)
        self.dy = dy

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        """Fill columns x0..x1 and rows y0..y1 (inclusive)."""
        top, bottom = max(0, y0 + self.dy), min(SPRITE_SIZE - 1, y1 + self.dy)
        self.index[top : bottom + 1, x0 : x1 + 1] = PALETTE_INDEX[colour]

    def dot(self, x: int, y: int, colour: Colour) -> None:
        self.rect(x, y, x, y, colour)


# Painters draw with slot names, never with a sprite's colours, so their shapes can be cached.
C = {slot: slot for slot in SLOTS}


def _legs(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    c.rect(12, 26, 14, 29, col["trousers"])
    c.rect(17, 26, 19, 29, col["trousers"])
    c.rect(11, 30, 14, 31, BOOTS)
    c.rect(17, 30, 20, 31, BOOTS)


def _body(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    left, right = (11, 20) if a["body"] == "slim" else (9, 22)
    c.rect(left - 2, 18, left - 1, 24, col["skin"])  # arms
    c.rect(right + 1, 18, right + 2, 24, col["skin"])
    c.rect(left, 16, right, 25, col["skin"])


def _outfit(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    left, right = (11, 20) if a["body"] == "slim" else (9, 22)
    cloth, light = col["cloth"], col["cloth_light"]
    c.rect(left - 2, 17, left - 1, 21, cloth)  # sleeves
    c.rect(right + 1, 17, right + 2, 21, cloth)
    c.rect(left, 16, right, 25, cloth)
    if a["outfit"] == "tunic":
        c.rect(left, 22, right, 22, BELT)
        c.dot(15, 22, BUCKLE)
        c.dot(16, 22, BUCKLE)
    elif a["outfit"] == "armour":
        c.rect(left - 3, 16, left + 1, 17, light)  # pauldrons
        c.rect(right - 1, 16, right + 3, 17, light)
        for row in (19, 21, 23, 25):
            c.rect(left, row, right, row, light)
    else:  # robe: to the ankles, with a trim down the front
        c.rect(left, 26, right, 29, cloth)
        c.rect(left - 1, 28, right + 1, 29, cloth)
        c.rect(15, 16, 16, 29, light)


def _head(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    c.rect(10, 4, 21, 15, col["skin"])
    c.rect(9, 8, 9, 10, col["skin"])  # ears
    c.rect(22, 8, 22, 10, col["skin"])


def _face(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    c.rect(12, 9, 13, 10, EYE)
    c.rect(18, 9, 19, 10, EYE)
    expression = a["expression"]
    # Expressions differ in several places (brows, mouth, cheeks): a 32-pixel face has little room,
    # and a one-pixel difference is what generators blur away first.
    if expression == "angry":  # thick brows slanting down to the nose, a wide frown
        c.rect(11, 5, 12, 6, BROW)
        c.rect(13, 6, 14, 7, BROW)
        c.rect(17, 6, 18, 7, BROW)
        c.rect(19, 5, 20, 6, BROW)
        c.rect(13, 12, 18, 12, MOUTH)
        c.rect(12, 13, 12, 14, MOUTH)
        c.rect(19, 13, 19, 14, MOUTH)
    elif expression == "happy":  # raised brows, an open smile, rosy cheeks
        c.rect(11, 6, 14, 6, BROW)
        c.rect(17, 6, 20, 6, BROW)
        c.dot(12, 12, MOUTH)
        c.dot(19, 12, MOUTH)
        c.rect(13, 13, 18, 14, MOUTH)
        c.rect(10, 12, 11, 13, BLUSH)
        c.rect(20, 12, 21, 13, BLUSH)
    else:  # level brows, a short straight mouth
        c.rect(11, 7, 14, 7, BROW)
        c.rect(17, 7, 20, 7, BROW)
        c.rect(14, 13, 17, 13, MOUTH)


def _hair(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    hair, style = col["hair"], a["hair_style"]
    c.rect(9, 3, 22, 5, hair)  # the cap every style shares
    if style == "short":
        c.rect(9, 6, 9, 8, hair)
        c.rect(22, 6, 22, 8, hair)
    elif style == "long":  # falls past the shoulders
        c.rect(7, 4, 9, 19, hair)
        c.rect(22, 4, 24, 19, hair)
    else:  # spiky: five spikes, the outer ones stick out at the sides
        for x in (8, 11, 15, 19, 23):
            c.rect(x, 0, x + 1, 2, hair)
        c.rect(7, 4, 8, 5, hair)
        c.rect(23, 4, 24, 5, hair)


def _accessory(c: _Canvas, a: dict[str, str], col: dict[str, str]) -> None:
    if a["accessory"] == "hat":  # narrow crown, wide brim: long and spiky hair still show at the sides
        c.rect(12, 0, 19, 2, HAT)
        c.rect(10, 3, 21, 3, HAT)
    elif a["accessory"] == "glasses":
        for left in (11, 17):
            c.rect(left, 8, left + 3, 8, FRAME)
            c.rect(left, 11, left + 3, 11, FRAME)
            c.rect(left, 8, left, 11, FRAME)
            c.rect(left + 3, 8, left + 3, 11, FRAME)
        c.rect(15, 9, 16, 9, FRAME)


PAINTERS = {
    "legs": _legs,
    "body": _body,
    "outfit": _outfit,
    "head": _head,
    "face": _face,
    "hair": _hair,
    "accessory": _accessory,
}


# Which attributes shape each part (its colours come from slots).
PART_SHAPE = {
    "legs": (),
    "body": ("body",),
    "outfit": ("body", "outfit"),
    "head": (),
    "face": ("expression",),
    "hair": ("hair_style",),
    "accessory": ("accessory",),
}


@functools.lru_cache(maxsize=512)
def _part_map(part: str, shape: tuple[tuple[str, str], ...], dy: int) -> np.ndarray:
    """``(32, 32)`` palette indices of one part, for the attributes that shape it."""
    canvas = _Canvas(dy)
    PAINTERS[part](canvas, dict(shape), C)
    canvas.index.flags.writeable = False
    return canvas.index


def _part_maps(attributes: dict[str, str], dy: int) -> list[np.ndarray]:
    return [_part_map(p, tuple((a, attributes[a]) for a in PART_SHAPE[p]), dy) for p in LAYER_ORDER]


def _palette(attributes: dict[str, str], rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """The sprite's ``(K, 4)`` RGBA palette (slots shaded by the seed) and its bob."""
    jitter = rng.uniform(0.9, 1.1, size=4)
    cloth = np.array(CLOTH[attributes["outfit_colour"]]) * jitter[2]
    slots = [
        np.array(SKIN[attributes["skin"]]) * jitter[0],
        np.array(HAIR[attributes["hair"]]) * jitter[1],
        cloth,
        cloth * 1.45,
        np.array(TROUSERS) * jitter[3],
    ]
    rgb = np.vstack([np.zeros(3), *slots, *[np.array(c) for c in FIXED]])
    palette = np.empty((len(rgb), 4), np.uint8)
    palette[:, :3] = np.clip(rgb.round(), 0, 255)
    palette[:, 3] = 255
    palette[0] = 0
    return palette, int(rng.integers(0, 2))


def draw_sprite(attributes: dict[str, str], seed: int = 0) -> Sprite:
    """Draw one character with the given attributes; the seed sets shades and the bob.

    Args:
        attributes: A value for every attribute in `ATTRIBUTES`.
        seed: Same seed and attributes give the same pixels.

    Returns:
        The `Sprite` with its part layers and RGBA composite.
    """
    attributes = check_attributes(attributes, complete=True)
    palette, dy = _palette(attributes, np.random.default_rng(seed))
    maps = _part_maps(attributes, dy)
    layers = {part: palette[m] for part, m in zip(LAYER_ORDER, maps, strict=True)}
    return Sprite(attributes=attributes, layers=layers, image=palette[_flatten(maps)])


def _flatten(maps: list[np.ndarray]) -> np.ndarray:
    """Later parts cover earlier ones."""
    out = maps[0].copy()
    for m in maps[1:]:
        np.copyto(out, m, where=m > 0)
    return out


def _composite(attributes: dict[str, str], seed: int) -> np.ndarray:
    """`draw_sprite(...).image` without the layers (the fast path for whole sets)."""
    palette, dy = _palette(attributes, np.random.default_rng(seed))
    return palette[_flatten(_part_maps(attributes, dy))]


def to_rgb(rgba: np.ndarray) -> np.ndarray:
    """RGBA sprites ``(..., H, W, 4)`` uint8 over the key colour -> ``(..., H, W, 3)`` uint8."""
    alpha = rgba[..., 3:4] > 0
    return np.where(alpha, rgba[..., :3], np.array(KEY_COLOUR, np.uint8)).astype(np.uint8)


def to_rgba(images: torch.Tensor, tolerance: float = 0.3) -> np.ndarray:
    """Generated ``(N, 3, H, W)`` images in [0, 1] over the key colour -> ``(N, H, W, 4)`` uint8 RGBA.

    A pixel within ``tolerance`` (largest channel difference) of the key colour becomes transparent.
    """
    rgb = images.detach().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()  # (N, H, W, 3)
    key = np.array(KEY_COLOUR, np.float32) / 255
    opaque = np.abs(rgb - key).max(axis=-1) > tolerance
    out = np.zeros((*rgb.shape[:3], 4), np.uint8)
    out[..., :3] = (rgb * 255).round().astype(np.uint8)
    out[..., 3] = np.where(opaque, 255, 0)
    out[~opaque, :3] = 0
    return out


@dataclass
class CharacterSet:
    """A labelled set of procedural characters, ready for training.

    Attributes:
        images: ``(N, 3, 32, 32)`` float32 in [0, 1], RGB over the key colour.
        codes: ``(N, len(ATTRIBUTES))`` long value indices.
        vectors: ``(N, ATTRIBUTE_DIM)`` float one-hot blocks.
        seed: The seed the set was drawn with.
    """

    images: torch.Tensor
    codes: torch.Tensor
    vectors: torch.Tensor
    seed: int

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def attributes(self, index: int) -> dict[str, str]:
        return {a: ATTRIBUTES[a][int(self.codes[index, i])] for i, a in enumerate(ATTRIBUTES)}


def combination_count() -> int:
    """How many distinct attribute combinations there are."""
    return int(np.prod([len(v) for v in ATTRIBUTES.values()]))


def make_character_set(count: int, seed: int = 0) -> CharacterSet:
    """Draw ``count`` characters with uniformly random attributes (deterministic by ``seed``).

    Raises:
        InputError: ``count`` outside 1..100000.
    """
    if not 1 <= count <= 100_000:
        raise InputError(f"count must be between 1 and 100000, got {count}")
    rng = np.random.default_rng(seed)
    values = [rng.integers(0, len(v), size=count) for v in ATTRIBUTES.values()]
    rows = [
        {a: ATTRIBUTES[a][int(v[i])] for a, v in zip(ATTRIBUTES, values, strict=True)} for i in range(count)
    ]
    sprite_seeds = rng.integers(0, 2**31, size=count)
    rgba = np.stack([_composite(row, int(s)) for row, s in zip(rows, sprite_seeds, strict=True)])
    images = torch.from_numpy(to_rgb(rgba)).permute(0, 3, 1, 2).float() / 255
    codes = attribute_codes(rows)
    return CharacterSet(images=images, codes=codes, vectors=attribute_vectors(codes), seed=seed)


def all_combinations() -> list[dict[str, str]]:
    """Every attribute combination, in a fixed order."""
    return [dict(zip(ATTRIBUTES, combo, strict=True)) for combo in itertools.product(*ATTRIBUTES.values())]
