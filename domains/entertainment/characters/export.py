"""Exports: a sprite sheet PNG, one PNG per character (zipped), the card JSON and a one-page HTML pitch.

Everything is returned as bytes or text (the suite decides where it goes); PNGs keep the sprites'
transparency and are enlarged with nearest-neighbour pixels. The pitch sheet is a single
self-contained HTML file (image inlined) with every piece of text escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import zipfile

import numpy as np
from PIL import Image

from domains.entertainment.characters.card import CharacterCard
from domains.entertainment.characters.operations import Characters, upscale
from shared_models.exceptions import InputError

__all__ = ["card_json", "character_pngs_zip", "pitch_sheet_html", "png_bytes", "sprite_sheet"]


def png_bytes(rgba: np.ndarray, scale: int = 1) -> bytes:
    """PNG of one ``(H, W, 4)`` uint8 RGBA image, enlarged ``scale`` times with crisp pixels."""
    buffer = io.BytesIO()
    Image.fromarray(upscale(rgba, scale), mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def sheet_array(images: np.ndarray, columns: int = 8, padding: int = 1) -> np.ndarray:
    """Tile ``(N, H, W, 4)`` sprites into one transparent ``(H', W', 4)`` sheet, row by row."""
    if len(images) == 0:
        raise InputError("there are no characters to put on a sheet")
    count, height, width, _ = images.shape
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    sheet = np.zeros(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, 4), np.uint8
    )
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        sheet[top : top + height, left : left + width] = image
    return sheet


def sprite_sheet(characters: Characters, columns: int = 8, scale: int = 4) -> bytes:
    """The characters as one sprite sheet PNG (transparent background, ``scale`` x pixels)."""
    return png_bytes(sheet_array(characters.images, columns), scale)


def character_pngs_zip(characters: Characters, scale: int = 4, prefix: str = "character") -> bytes:
    """A zip of one PNG per character plus ``characters.json`` (attributes and latent codes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, image in enumerate(characters.images):
            archive.writestr(f"{prefix}_{i + 1:03d}.png", png_bytes(image, scale))
        archive.writestr("characters.json", json.dumps(characters.to_json(), indent=2))
    return buffer.getvalue()


def card_json(card: CharacterCard) -> str:
    """The card as pretty-printed JSON."""
    return json.dumps(card.to_dict(), indent=2, ensure_ascii=False)


def pitch_sheet_html(card: CharacterCard, portrait: np.ndarray, extras: np.ndarray | None = None) -> str:
    """A one-page HTML pitch sheet: portrait, card, and optionally a strip of related sprites.

    Args:
        card: The character's card.
        portrait: ``(H, W, 4)`` RGBA sprite of the character.
        extras: Optional ``(N, H, W, 4)`` sprites (variations, the rest of the cast) shown below.
    """
    e = html.escape
    portrait_uri = "data:image/png;base64," + base64.b64encode(png_bytes(portrait, 8)).decode()
    traits = "".join(f"<li>{e(t)}</li>" for t in card.personality_traits)
    attrs = "".join(
        f"<tr><th>{e(k.replace('_', ' '))}</th><td>{e(v)}</td></tr>" for k, v in card.attributes.items()
    )
    strip = ""
    if extras is not None and len(extras):
        strip_uri = (
            "data:image/png;base64," + base64.b64encode(png_bytes(sheet_array(extras, 16), 3)).decode()
        )
        strip = f'<h2>Variations</h2><img class="strip" src="{strip_uri}" alt="variations">'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(card.name)} - character pitch</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 900px; margin: 2rem auto; color: #222; }}
.top {{ display: flex; gap: 2rem; align-items: flex-start; }}
.portrait {{ image-rendering: pixelated; background: #eef1f5; border-radius: 8px; width: 256px; }}
.strip {{ image-rendering: pixelated; max-width: 100%; }}
h1 {{ margin: 0 0 .2rem; }} .role {{ color: #666; margin-top: 0; }}
blockquote {{ border-left: 4px solid #c33; margin: 1rem 0; padding-left: 1rem; font-style: italic; }}
th {{ text-align: left; padding-right: 1rem; color: #666; font-weight: normal; }}
footer {{ margin-top: 2rem; font-size: .8rem; color: #888; }}
</style></head><body>
<div class="top"><img class="portrait" src="{portrait_uri}" alt="portrait of {e(card.name)}">
<div><h1>{e(card.name)}</h1><p class="role">{e(card.role)}</p>
<p>{e(card.appearance)}</p><blockquote>&ldquo;{e(card.signature_line)}&rdquo;</blockquote>
<h2>Personality</h2><ul>{traits}</ul></div></div>
<h2>Backstory</h2><p>{e(card.backstory)}</p>
<h2>Design attributes</h2><table>{attrs}</table>
{strip}
<footer>Brief: {e(card.brief)} &middot; Card written by {e(card.model or "the language model")},
checked against the design attributes &middot; AIGC Industry Suite</footer>
</body></html>
"""
