"""`aigc characters`: generate attribute-controlled pixel-art characters and character cards.

Example:
    $ aigc characters generate --hair red --outfit armour --n 16 --out sheet.png
    $ aigc characters generate --hair blonde --n 8 --brief "a shy wizard" --card card.json --pitch pitch.html
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domains.entertainment.characters.models import GENERATOR_KINDS, CharacterModelSpec
from domains.entertainment.characters.operations import MAX_CHARACTERS
from domains.entertainment.characters.sprites import ATTRIBUTES
from shared_models.exceptions import InputError
from shared_models.lm import LMConfig, build_text_generator
from suite.capabilities.character_design.runner import card_and_record, generate_and_record
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("characters", help="Character Design: pixel-art characters and cards")
    sub = parser.add_subparsers(dest="characters_command", required=True, metavar="ACTION")
    gen = sub.add_parser("generate", help="generate characters (the first use trains the generator)")
    for name, values in ATTRIBUTES.items():
        gen.add_argument(f"--{name.replace('_', '-')}", dest=name, choices=values, help="default: vary")
    gen.add_argument("--n", type=int, default=16, help=f"how many characters (1..{MAX_CHARACTERS})")
    gen.add_argument("--out", type=Path, default=Path("sheet.png"), help="sprite sheet PNG to write")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--model", choices=list(GENERATOR_KINDS), default="cvae")
    gen.add_argument("--steps", type=int, help="training steps on first use (default 1500 cVAE, 3000 cGAN)")
    gen.add_argument("--brief", help="write a character card for the first character from this brief")
    gen.add_argument("--card", type=Path, help="where to write the card JSON (with --brief)")
    gen.add_argument("--pitch", type=Path, help="where to write the HTML pitch sheet (with --brief)")
    gen.set_defaults(handler=generate_command)


def generate_command(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= MAX_CHARACTERS:
        raise InputError(f"--n must be between 1 and {MAX_CHARACTERS}, got {args.n}")
    if (args.card or args.pitch) and not args.brief:
        raise InputError("--card and --pitch need --brief (what the character is about)")
    chosen = {name: getattr(args, name) for name in ATTRIBUTES if getattr(args, name)}
    steps = args.steps or (1500 if args.model == "cvae" else 3000)
    spec = CharacterModelSpec(model=args.model, steps=steps)
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = generate_and_record(workspace, spec, chosen, args.n, args.seed, progress, stop)
    progress.close()
    args.out.write_bytes(workspace.artifact_path(outcome.run_id, "sheet.png").read_bytes())
    summary: dict[str, Any] = {"run_id": outcome.run_id, "sheet": str(args.out), "characters": args.n}
    if args.brief:
        lm = build_text_generator(LMConfig.from_env())
        characters = outcome.characters
        card_run, card, pitch = card_and_record(
            workspace, lm, characters.attributes[0], characters.images[0], args.brief, seed=args.seed
        )
        if args.card:
            args.card.write_text(json.dumps(card.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        if args.pitch:
            args.pitch.write_text(pitch, encoding="utf-8")
        summary.update({"card_run_id": card_run, "name": card.name, "corrections": card.corrections})
    print(json.dumps(summary, indent=2))
    return 0
