"""Widgets and views of the Character Design page: attribute pickers, the character grid, tool strips."""

from __future__ import annotations

import numpy as np
import streamlit as st

from domains.entertainment.characters.card import CharacterCard
from domains.entertainment.characters.export import (
    card_json,
    character_pngs_zip,
    png_bytes,
    sheet_array,
    sprite_sheet,
)
from domains.entertainment.characters.models import GENERATOR_KINDS, CharacterModelSpec
from domains.entertainment.characters.operations import Characters, upscale
from domains.entertainment.characters.sprites import ATTRIBUTES
from suite.jobs import JobView

__all__ = [
    "label",
    "render_card",
    "render_downloads",
    "render_grid",
    "render_job_details",
    "render_settings",
    "render_strip",
]

ANY = "any"
DEFAULT_STEPS = {"cvae": 1500, "cgan": 3000}


def label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def render_settings(page_id: str) -> tuple[dict[str, str], int, int, CharacterModelSpec]:
    """Attribute pickers (``any`` leaves an attribute free to vary), count, seed and generator."""
    chosen: dict[str, str] = {}
    left, right = st.columns(2)
    for i, (name, values) in enumerate(ATTRIBUTES.items()):
        with left if i % 2 == 0 else right:
            value = st.selectbox(label(name), (ANY, *values), key=f"{page_id}.attr.{name}")
        if value != ANY:
            chosen[name] = value
    n = st.slider("Characters", 4, 32, 16, step=4, key=f"{page_id}.n")
    seed = int(st.number_input("Seed", 0, 1_000_000, 0, key=f"{page_id}.seed"))
    with st.expander("Generator"):
        kind = st.radio(
            "Model",
            list(GENERATOR_KINDS),
            format_func=lambda k: f"{k.upper()}: {GENERATOR_KINDS[k]}",
            key=f"{page_id}.model",
        )
        steps = st.slider(
            "Training steps (first use only; then it loads from the model store)",
            50,
            6000,
            DEFAULT_STEPS[kind],
            step=50,
            key=f"{page_id}.steps.{kind}",
            help=(
                "Measured on a 2-core machine shared with other work: the cVAE's 1500 steps took "
                "14 minutes. A stopped training keeps its progress; the next Generate continues it."
            ),
        )
    return chosen, n, seed, CharacterModelSpec(model=kind, steps=steps)


def render_job_details(view: JobView) -> None:
    """Under the live progress bar of a first-use training: the latest losses and samples."""
    progress = view.progress
    if progress and progress.metrics:
        st.caption(", ".join(f"{k} {v:.3g}" for k, v in progress.metrics.items()))
    if view.preview is not None:
        st.image(view.preview, caption="Characters at the latest snapshot", width=320)


def render_grid(page_id: str, characters: Characters, columns: int = 8) -> list[int]:
    """The characters in a grid, each with a favourite toggle; returns the favourites' indices."""
    favourites: list[int] = []
    for start in range(0, len(characters), columns):
        cells = st.columns(columns)
        for offset, cell in enumerate(cells):
            i = start + offset
            if i >= len(characters):
                break
            with cell:
                st.image(png_bytes(characters.images[i], 4), caption=f"#{i + 1}", width="stretch")
                if st.checkbox("★", key=f"{page_id}.fav.{i}", help=_summary(characters.attributes[i])):
                    favourites.append(i)
    return favourites


def _summary(attributes: dict[str, str]) -> str:
    return ", ".join(f"{label(k)}: {v}" for k, v in attributes.items())


def render_strip(page_id: str, strip: Characters, caption: str, name: str) -> None:
    """A row of characters (variations or a blend) with its download."""
    sheet = sheet_array(strip.images, columns=len(strip))
    st.image(upscale(sheet, 4), caption=caption, width="stretch")
    st.download_button(
        "Download strip (PNG)",
        sprite_sheet(strip, columns=len(strip)),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"{page_id}.download.{name}",
    )


def render_downloads(page_id: str, characters: Characters, favourites: list[int]) -> None:
    chosen = characters.take(favourites) if favourites else characters
    what = "favourites" if favourites else "all"
    left, right = st.columns(2)
    left.download_button(
        f"Sprite sheet ({what}, PNG)",
        sprite_sheet(chosen),
        file_name="sprite-sheet.png",
        mime="image/png",
        key=f"{page_id}.download.sheet",
    )
    right.download_button(
        f"Character PNGs ({what}, zip)",
        character_pngs_zip(chosen),
        file_name="characters.zip",
        mime="application/zip",
        key=f"{page_id}.download.pngs",
    )


def render_card(page_id: str, card: CharacterCard, portrait: np.ndarray, pitch_html: str) -> None:
    """The card beside the character, with JSON and pitch-sheet downloads."""
    image, text = st.columns([1, 2])
    image.image(png_bytes(portrait, 8), width="stretch")
    with text:
        st.subheader(card.name)
        st.caption(card.role)
        st.write(card.appearance)
        st.markdown(f"> *{card.signature_line}*")
        st.write(card.backstory)
        st.write("**Personality:** " + ", ".join(card.personality_traits))
        if card.corrections:
            st.caption("Corrected to match the picture: " + "; ".join(card.corrections))
    left, right = st.columns(2)
    left.download_button(
        "Card (JSON)",
        card_json(card),
        file_name="character-card.json",
        mime="application/json",
        key=f"{page_id}.download.card",
    )
    right.download_button(
        "Pitch sheet (HTML)",
        pitch_html,
        file_name="pitch-sheet.html",
        mime="text/html",
        key=f"{page_id}.download.pitch",
    )
