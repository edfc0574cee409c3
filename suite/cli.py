"""The `aigc` command line.

Each command group lives in its own module under `suite.commands` and exposes
``register(subparsers)``; adding a capability's commands means adding its module to `COMMAND_GROUPS`.

Example:
    $ aigc runs list --limit 5
    $ aigc runs show 12
    $ aigc serve --port 8502
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from shared_models import __version__
from shared_models.exceptions import SuiteError
from suite.commands import (
    characters,
    chat,
    defects,
    lab,
    part,
    recs,
    risk,
    runs,
    script,
    serve,
    strategy,
    style,
    text,
    topo,
)

__all__ = ["COMMAND_GROUPS", "build_parser", "main"]

COMMAND_GROUPS: tuple[ModuleType, ...] = (
    runs,
    serve,
    lab,
    text,
    script,
    characters,
    style,
    part,
    topo,
    defects,
    risk,
    strategy,
    recs,
    chat,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aigc", description="AIGC Industry Suite: generative AI for industry tasks."
    )
    parser.add_argument("--version", action="version", version=f"aigc-suite {__version__}")
    parser.add_argument(
        "--home", metavar="DIR", help="workspace folder (default: $AIGC_HOME, else ./workspace)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (0 ok, 2 a user error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
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
