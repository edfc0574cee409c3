"""The registry of capabilities the app shows: one entry per working page.

The router builds the menu from it and Home draws a card per entry, so a capability appears
exactly when its page is listed here. Nothing unfinished goes in: no placeholder pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["CAPABILITIES", "SECTIONS", "SUITE_DIR", "Capability", "Section", "by_id", "for_run"]

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
        runs: Prefixes of the workspace run names it records (``"lab."`` for ``lab.train``), so
            Home can name a run's capability and open its page.
    """

    id: str
    title: str
    section: Section
    page: str
    icon: str
    summary: str
    runs: tuple[str, ...] = ()

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
        runs=("lab.",),
    ),
    Capability(
        id="text-lab",
        title="Text Lab",
        section="Model Lab",
        page="pages/text_lab.py",
        icon=":material/chat:",
        summary="Chat with the local language model or your own endpoint; train a small GPT on your text.",
        runs=("text.",),
    ),
    Capability(
        id="part-design",
        title="Part Design",
        section="Manufacturing",
        page="pages/part_design.py",
        icon=":material/precision_manufacturing:",
        summary="Find the lightest bracket, beam or plate that holds its load, checked by finite elements.",
        runs=("part.",),
    ),
    Capability(
        id="defect-inspection",
        title="Defect Inspection",
        section="Manufacturing",
        page="pages/defect_inspection.py",
        icon=":material/troubleshoot:",
        summary="Learn good parts from images, then flag and outline defects at a false-alarm rate you set.",
        runs=("defects.",),
    ),
    Capability(
        id="script-writer",
        title="Script Writer",
        section="Creative & Entertainment",
        page="pages/script_writer.py",
        icon=":material/movie:",
        summary="From a logline to a screenplay in Fountain, level by level; or train on your own scripts.",
        runs=("script.",),
    ),
    Capability(
        id="recommender",
        title="Recommender",
        section="Customer Service",
        page="pages/recommender.py",
        icon=":material/recommend:",
        summary="Compare recommenders on held-out users, serve top-N with reasons and personalised copy.",
        runs=("recs.",),
    ),
    Capability(
        id="support-chat",
        title="Support Chat",
        section="Customer Service",
        page="pages/support_chat.py",
        icon=":material/support_agent:",
        summary="A help-centre chatbot that answers with checked citations and hands over to a person.",
        runs=("chat.ask",),
    ),
    Capability(
        id="support-admin",
        title="Support Admin",
        section="Customer Service",
        page="pages/support_admin.py",
        icon=":material/admin_panel_settings:",
        summary="Load help articles and intents, review unanswered questions, feedback and tickets.",
        runs=("chat.ingest", "chat.intents"),
    ),
    Capability(
        id="risk-lab",
        title="Risk Lab",
        section="Finance",
        page="pages/risk_lab.py",
        icon=":material/query_stats:",
        summary="VaR/ES with regulatory backtests, generated market scenarios, stress tests, credit scores.",
        runs=("risk.",),
    ),
    Capability(
        id="topology",
        title="Topology",
        section="Manufacturing",
        page="pages/topology.py",
        icon=":material/architecture:",
        summary="Grow the stiffest part for a material budget from loads, supports and keep-outs; print it.",
        runs=("manufacturing.topology",),
    ),
    Capability(
        id="strategy-studio",
        title="Strategy Studio",
        section="Finance",
        page="pages/strategy_studio.py",
        icon=":material/insights:",
        summary="Search strategies walk-forward, test them on a holdout and get a fact-checked memo.",
        runs=("strategy.",),
    ),
    Capability(
        id="character-design",
        title="Character Design",
        section="Creative & Entertainment",
        page="pages/character_design.py",
        icon=":material/face:",
        summary="Pixel-art characters with the look you pick: vary and blend them, and get a card to pitch.",
        runs=("characters.",),
    ),
    Capability(
        id="style-transfer",
        title="Style Transfer",
        section="Creative & Entertainment",
        page="pages/style_transfer.py",
        icon=":material/palette:",
        summary="Paint a photo in the manner of a painting: brush strokes, a fast network or colour only.",
        runs=("style.",),
    ),
)


def by_id(capability_id: str) -> Capability | None:
    """The capability with this id (a job's owner), if it is installed."""
    return next((c for c in CAPABILITIES if c.id == capability_id), None)


def for_run(run_name: str) -> Capability | None:
    """The capability that records runs named ``run_name`` (the longest matching prefix wins)."""
    matches = [(len(p), c) for c in CAPABILITIES for p in c.runs if run_name.startswith(p)]
    return max(matches, key=lambda m: m[0])[1] if matches else None
