"""The `aigc` command line.

Each command group lives in its own module under `suite.commands` and exposes
``register(subparsers)``; adding a capability's commands means adding it to `COMMAND_GROUPS`. A group's
module is imported only when its command runs, so `aigc runs list` and `aigc --help` start without
torch.

Example:
    $ aigc runs list --limit 5
    $ aigc runs show 12
    $ aigc serve --port 8502
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from shared_models import __version__
from shared_models.exceptions import SuiteError

__all__ = ["COMMAND_GROUPS", "CommandGroup", "build_parser", "main"]


@dataclass(frozen=True)
class CommandGroup:
    """One ``aigc`` sub-command group, imported only when it runs (most pull in torch).

    Attributes:
        name: The sub-command, e.g. ``"runs"``.
        module: Its module; it exposes ``register(subparsers)``.
        help: The one-line help `aigc --help` lists (a test keeps it equal to the module's own).
    """

    name: str
    module: str
    help: str

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


COMMAND_GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("runs", "suite.commands.runs", "list and inspect runs in the workspace"),
    CommandGroup("jobs", "suite.commands.jobs", "list the app's jobs and stop one"),
    CommandGroup("serve", "suite.commands.serve", "start the web app"),
    CommandGroup("lab", "suite.commands.lab", "Model Lab: train and sample GANs and VAEs"),
    CommandGroup("text", "suite.commands.text", "language model: generate text, train a small GPT"),
    CommandGroup(
        "script", "suite.commands.script", "screenplays: draft from a logline, train on your scripts"
    ),
    CommandGroup(
        "characters", "suite.commands.characters", "Character Design: pixel-art characters and cards"
    ),
    CommandGroup("style", "suite.commands.style", "Style Transfer: painterly, fast and colour stylisation"),
    CommandGroup("part", "suite.commands.part", "Part design: parametric parts, FE checks, Optuna studies"),
    CommandGroup("topo", "suite.commands.topo", "Topology optimisation: grow a part from loads and supports"),
    CommandGroup(
        "defects", "suite.commands.defects", "Defect Inspection: learn good parts, flag and outline defects"
    ),
    CommandGroup(
        "risk", "suite.commands.risk", "Risk Lab: VaR/ES, backtests, scenarios, stress tests, credit"
    ),
    CommandGroup(
        "strategy", "suite.commands.strategy", "Strategy Studio: walk-forward strategy search and memo"
    ),
    CommandGroup("recs", "suite.commands.recs", "Recommender: compare models, recommend with reasons"),
    CommandGroup("chat", "suite.commands.chat", "support chatbot: ingest help content, ask, train intents"),
)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option or its value)."""
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--home":
            i += 2
            continue
        if not word.startswith("-"):
            return word
        i += 1
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the group ``argv`` names is imported (all of them when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog="aigc", description="AIGC Industry Suite: generative AI for industry tasks."
    )
    parser.add_argument("--version", action="version", version=f"aigc-suite {__version__}")
    parser.add_argument(
        "--home", metavar="DIR", help="workspace folder (default: $AIGC_HOME, else ./workspace)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else _chosen_command(argv)
    for group in COMMAND_GROUPS:
        if argv is None or group.name == chosen:
            group.load().register(commands)
        else:  # listed in `aigc --help`, loaded only when run
            commands.add_parser(group.name, help=group.help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (0 ok, 2 a user error, 130 interrupted)."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    if args.home:
        os.environ["AIGC_HOME"] = args.home  # one place decides the root: workspace.default_root()
    try:
        return int(args.handler(args) or 0)
    except SuiteError as exc:
        print(f"aigc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aigc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
