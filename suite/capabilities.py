"""The registry of capabilities the app shows: one entry per working page.

The router builds the menu from it and Home draws a card per entry, so a capability appears
exactly when its page is listed here. Nothing unfinished goes in: no placeholder pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["CAPABILITIES", "SECTIONS", "SUITE_DIR", "Capability", "Section"]

Section = Literal["Creative & Entertainment", "Manufacturing", "Finance", "Customer Service", "Model Lab"]
SECTIONS: tuple[Section, ...] = (
    "Creative & Entertainment",
    "Manufacturing",
    "Finance",
    "Customer Service",
    "Model Lab",
)
SUITE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Capability:
    """One page of the suite.

    Attributes:
        id: Stable identifier; also the page's URL path and its session-state key.
        title: Menu and card title.
        section: Menu section (industry).
        page: Page script, relative to the ``suite`` package.
        icon: A Streamlit material icon, e.g. ``":material/palette:"``.
        summary: One sentence for the Home card.
    """

    id: str
    title: str
    section: Section
    page: str
    icon: str
    summary: str

    @property
    def page_path(self) -> Path:
        return SUITE_DIR / self.page


# Appended to by each capability issue, in menu order within a section.
CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        id="model-lab",
        title="Image generators",
        section="Model Lab",
        page="pages/model_lab.py",
        icon=":material/science:",
        summary="Train a GAN, cGAN, VAE or cVAE on digits, shapes or your own images; sample and measure it.",
    ),
    Capability(
        id="text-lab",
        title="Text Lab",
        section="Model Lab",
        page="pages/text_lab.py",
        icon=":material/chat:",
        summary="Chat with the local language model or your own endpoint; train a small GPT on your text.",
    ),
    Capability(
        id="character-design",
        title="Character Design",
        section="Creative & Entertainment",
        page="pages/character_design.py",
        icon=":material/face:",
        summary="Pixel-art characters with the look you pick: vary and blend them, and get a card to pitch.",
    ),
)
