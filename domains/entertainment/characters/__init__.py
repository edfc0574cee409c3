"""Virtual character design: procedural pixel-art characters, attribute-controlled generators,
variations and blends, and character cards that agree with the picture.

Modules: `sprites` (the labelled procedural set), `models` (cVAE / cGAN via the store, and the
attribute classifier), `operations` (generate, variations, blend, upscale), `card` (character cards
from the language core), `export` (sprite sheet, PNGs, card JSON, HTML pitch sheet).
"""

from __future__ import annotations

from domains.entertainment.characters.card import CharacterCard, check_brief, write_card
from domains.entertainment.characters.models import (
    GENERATOR_KINDS,
    CharacterModelSpec,
    get_attribute_classifier,
    get_character_model,
)
from domains.entertainment.characters.operations import Characters, blend, generate, upscale, variations
from domains.entertainment.characters.sprites import ATTRIBUTES, draw_sprite, make_character_set

__all__ = [
    "ATTRIBUTES",
    "GENERATOR_KINDS",
    "CharacterCard",
    "CharacterModelSpec",
    "Characters",
    "blend",
    "check_brief",
    "draw_sprite",
    "generate",
    "get_attribute_classifier",
    "get_character_model",
    "make_character_set",
    "upscale",
    "variations",
    "write_card",
]
