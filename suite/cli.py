"""The `aigc` command line.

The shell's own groups (runs, jobs, serve) live under `suite.commands`; each capability's group is its
folder's ``cli.py``, named in its `Capability` entry. A group's module exposes ``register(subparsers)``
and is imported only when its command runs, so `aigc runs list` and `aigc --help` start without
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
from suite.capabilities import CAPABILITIES

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


SHELL_GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("runs", "suite.commands.runs", "list and inspect runs in the workspace"),
    CommandGroup("jobs", "suite.commands.jobs", "list the app's jobs and stop one"),
    CommandGroup("serve", "suite.commands.serve", "start the web app"),
)
# Each capability brings its own group, from its folder's cli.py.
COMMAND_GROUPS: tuple[CommandGroup, ...] = SHELL_GROUPS + tuple(
    CommandGroup(c.command, f"{c.package}.cli", c.command_help) for c in CAPABILITIES if c.command
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
