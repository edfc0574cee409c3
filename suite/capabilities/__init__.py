"""The capabilities of the suite: one folder each, registered here by one `Capability` object.

A capability is its domain package plus one folder ``suite/capabilities/<id>/``: ``page.py`` (the
Streamlit page, thin), ``views.py`` (its UI pieces), ``runner.py`` (domain calls wrapped in workspace
runs and jobs, shared by page and CLI) and ``cli.py`` (its ``aigc`` command group). The router builds
the menu from this registry, Home draws a card per entry and names runs by it, and `suite.cli` loads a
capability's commands from it. Nothing unfinished goes in: no placeholder pages.
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
SUITE_DIR = Path(__file__).resolve().parent.parent


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
        command: Its ``aigc`` command group (``""`` when it has none), loaded from ``cli.py``.
        command_help: The group's one-line help in ``aigc --help``.
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
    command: str = ""
    command_help: str = ""

    @property
    def page_path(self) -> Path:
        return SUITE_DIR / self.page

    @property
    def package(self) -> str:
        """The capability's package, e.g. ``suite.capabilities.strategy_studio``."""
        return "suite." + str(Path(self.page).parent).replace("/", ".")


# Appended to by each capability issue, in menu order within a section.
CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        id="model-lab",
        title="Image generators",
        section="Model Lab",
        page="capabilities/model_lab/page.py",
        icon=":material/science:",
        summary="Train a GAN, cGAN, VAE or cVAE on digits, shapes or your own images; sample and measure it.",
        runs=("lab.",),
        command="lab",
        command_help="Model Lab: train and sample GANs and VAEs",
    ),
    Capability(
        id="text-lab",
        title="Text Lab",
        section="Model Lab",
        page="capabilities/text_lab/page.py",
        icon=":material/chat:",
        summary="Chat with the local language model or your own endpoint; train a small GPT on your text.",
        runs=("text.",),
        command="text",
        command_help="language model: generate text, train a small GPT",
    ),
    Capability(
        id="part-design",
        title="Part Design",
        section="Manufacturing",
        page="capabilities/part_design/page.py",
        icon=":material/precision_manufacturing:",
        summary="Find the lightest bracket, beam or plate that holds its load, checked by finite elements.",
        runs=("part.",),
        command="part",
        command_help="Part design: parametric parts, FE checks, Optuna studies",
    ),
    Capability(
        id="defect-inspection",
        title="Defect Inspection",
        section="Manufacturing",
        page="capabilities/defect_inspection/page.py",
        icon=":material/troubleshoot:",
        summary="Learn good parts from images, then flag and outline defects at a false-alarm rate you set.",
        runs=("defects.",),
        command="defects",
        command_help="Defect Inspection: learn good parts, flag and outline defects",
    ),
    Capability(
        id="script-writer",
        title="Script Writer",
        section="Creative & Entertainment",
        page="capabilities/script_writer/page.py",
        icon=":material/movie:",
        summary="From a logline to a screenplay in Fountain, level by level; or train on your own scripts.",
        runs=("script.",),
        command="script",
        command_help="screenplays: draft from a logline, train on your scripts",
    ),
    Capability(
        id="recommender",
        title="Recommender",
        section="Customer Service",
        page="capabilities/recommender/page.py",
        icon=":material/recommend:",
        summary="Compare recommenders on held-out users, serve top-N with reasons and personalised copy.",
        runs=("recs.",),
        command="recs",
        command_help="Recommender: compare models, recommend with reasons",
    ),
    Capability(
        id="support-chat",
        title="Support Chat",
        section="Customer Service",
        page="capabilities/support_chat/page.py",
        icon=":material/support_agent:",
        summary="A help-centre chatbot that answers with checked citations and hands over to a person.",
        runs=("chat.ask",),
        command="chat",
        command_help="support chatbot: ingest help content, ask, train intents",
    ),
    Capability(
        id="support-admin",
        title="Support Admin",
        section="Customer Service",
        page="capabilities/support_admin/page.py",
        icon=":material/admin_panel_settings:",
        summary="Load help articles and intents, review unanswered questions, feedback and tickets.",
        runs=("chat.ingest", "chat.intents"),
    ),
    Capability(
        id="risk-lab",
        title="Risk Lab",
        section="Finance",
        page="capabilities/risk_lab/page.py",
        icon=":material/query_stats:",
        summary="VaR/ES with regulatory backtests, generated market scenarios, stress tests, credit scores.",
        runs=("risk.",),
        command="risk",
        command_help="Risk Lab: VaR/ES, backtests, scenarios, stress tests, credit",
    ),
    Capability(
        id="topology",
        title="Topology",
        section="Manufacturing",
        page="capabilities/topology/page.py",
        icon=":material/architecture:",
        summary="Grow the stiffest part for a material budget from loads, supports and keep-outs; print it.",
        runs=("manufacturing.topology",),
        command="topo",
        command_help="Topology optimisation: grow a part from loads and supports",
    ),
    Capability(
        id="strategy-studio",
        title="Strategy Studio",
        section="Finance",
        page="capabilities/strategy_studio/page.py",
        icon=":material/insights:",
        summary="Search strategies walk-forward, test them on a holdout and get a fact-checked memo.",
        runs=("strategy.",),
        command="strategy",
        command_help="Strategy Studio: walk-forward strategy search and memo",
    ),
    Capability(
        id="character-design",
        title="Character Design",
        section="Creative & Entertainment",
        page="capabilities/character_design/page.py",
        icon=":material/face:",
        summary="Pixel-art characters with the look you pick: vary and blend them, and get a card to pitch.",
        runs=("characters.",),
        command="characters",
        command_help="Character Design: pixel-art characters and cards",
    ),
    Capability(
        id="style-transfer",
        title="Style Transfer",
        section="Creative & Entertainment",
        page="capabilities/style_transfer/page.py",
        icon=":material/palette:",
        summary="Paint a photo in the manner of a painting: brush strokes, a fast network or colour only.",
        runs=("style.",),
        command="style",
        command_help="Style Transfer: painterly, fast and colour stylisation",
    ),
)


def by_id(capability_id: str) -> Capability | None:
    """The capability with this id (a job's owner), if it is installed."""
    return next((c for c in CAPABILITIES if c.id == capability_id), None)


def for_run(run_name: str) -> Capability | None:
    """The capability that records runs named ``run_name`` (the longest matching prefix wins)."""
    matches = [(len(p), c) for c in CAPABILITIES for p in c.runs if run_name.startswith(p)]
    return max(matches, key=lambda m: m[0])[1] if matches else None
