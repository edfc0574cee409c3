"""`aigc style`: stylise a folder of photos, list styles, train fast styles.

Example:
    $ aigc style list
    $ aigc style apply --style swirl --in photos/ --out styled/
    $ aigc style apply --style starry_night.jpg --method colour --colour-method sliced-ot --in a/ --out b/
    $ aigc style train --style swirl --seconds 180
    $ aigc style apply --style swirl --method fast --in photos/ --out styled/
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from domains.creative import (
    CONTENT_PHOTOS,
    METHODS,
    PAINTERLY_LIMITS,
    PROCEDURAL_STYLES,
    Limit,
    PainterlyConfig,
    StyleSettings,
    check_upload,
    list_fast_styles,
    open_fast_style,
)
from domains.creative.fast import fast_styles_for
from shared_models.exceptions import InputError
from suite.capabilities.style_transfer.runner import (
    load_style,
    store_root,
    stylise_and_record,
    train_and_record,
)
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["PAINTERLY_FLAGS", "register"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
# `aigc style apply` flags of the painterly controls: (config field, type, help); each range comes
# from PAINTERLY_LIMITS, as the page's widgets do.
PAINTERLY_FLAGS: dict[str, tuple[str, type, str]] = {
    "--size": ("output_size", int, "longest side of the output"),
    "--content-weight": ("content_weight", float, "painterly: how much photo to keep"),
    "--style-scale": ("style_scale", float, "painterly: stroke size"),
    "--scales": ("scales", int, "painterly: coarse-to-fine levels"),
    "--iterations": ("iterations", int, "painterly: rounds per patch size"),
    "--seed": ("seed", int, "seeds the painting and the colour transfer"),
}


def _within(limit: Limit, kind: type) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` inside ``limit``, else a usage error naming the range."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value not in limit:
            raise argparse.ArgumentTypeError(f"{text} is outside {limit}")
        return value

    return parse


def register(commands: Any) -> None:
    parser = commands.add_parser("style", help="Style Transfer: painterly, fast and colour stylisation")
    sub = parser.add_subparsers(dest="style_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="built-in styles, bundled photos and trained fast styles")
    listing.set_defaults(handler=list_command)

    apply = sub.add_parser("apply", help="stylise every image of a folder (each one a recorded run)")
    apply.add_argument(
        "--style", required=True, help=f"built-in {sorted(PROCEDURAL_STYLES)} or an image path"
    )
    apply.add_argument("--in", dest="inputs", type=Path, required=True, help="folder of content images")
    apply.add_argument("--out", type=Path, required=True, help="folder for the stylised PNGs")
    apply.add_argument("--method", choices=METHODS, default="painterly")
    apply.add_argument("--colour-method", choices=("reinhard", "sliced-ot"), default="reinhard")
    apply.add_argument("--keep-colours", action="store_true", help="keep each photo's own colours")
    defaults = PainterlyConfig()
    for flag, (field, kind, text) in PAINTERLY_FLAGS.items():
        limit = PAINTERLY_LIMITS[field]
        apply.add_argument(
            flag,
            type=_within(limit, kind),
            default=getattr(defaults, field),
            help=f"{text} ({limit}; default %(default)s)",
        )
    apply.set_defaults(handler=apply_command)

    train = sub.add_parser("train", help="train the fast network for a style (stored and reused)")
    train.add_argument(
        "--style", required=True, help=f"built-in {sorted(PROCEDURAL_STYLES)} or an image path"
    )
    train.add_argument("--seconds", type=float, default=180.0, help="training time budget")
    train.add_argument("--steps", type=int, default=600, help="training steps at most")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=train_command)


def list_command(args: argparse.Namespace) -> int:
    workspace = Workspace.from_env()
    listing = {
        "built_in_styles": sorted(PROCEDURAL_STYLES),
        "content_photos": sorted(CONTENT_PHOTOS),
        "fast_styles": [
            {k: e[k] for k in ("key", "name", "created", "seconds")}
            for e in list_fast_styles(store_root(workspace))
        ],
    }
    print(json.dumps(listing, indent=2))
    return 0


def _fast_key(workspace: Workspace, style_name: str, style: np.ndarray) -> str:
    """The newest trained fast style for this style image."""
    matching = fast_styles_for(store_root(workspace), style)
    if not matching:
        raise InputError(
            f"no fast style is trained for {style_name!r}; run `aigc style train --style {style_name}`"
        )
    return str(matching[0]["key"])


def apply_command(args: argparse.Namespace) -> int:
    if not args.inputs.is_dir():
        raise InputError(f"--in {args.inputs} is not a folder")
    files = sorted(p for p in args.inputs.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"--in {args.inputs} holds no {', '.join(IMAGE_SUFFIXES)} images")
    style_name, style = load_style(args.style)
    painterly = PainterlyConfig(
        output_size=args.size,
        scales=args.scales,
        iterations=args.iterations,
        content_weight=args.content_weight,
        style_scale=args.style_scale,
        seed=args.seed,
    )
    settings = StyleSettings(args.method, args.colour_method, args.keep_colours, painterly)
    workspace = Workspace.from_env()
    fast_key = _fast_key(workspace, style_name, style) if args.method == "fast" else None
    fast = open_fast_style(store_root(workspace), fast_key) if fast_key else None  # once per batch
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with stop_on_interrupt() as stop:
        for path in files:
            content = check_upload(path.read_bytes(), path.name)
            progress = TerminalProgress()
            outcome = stylise_and_record(
                workspace, content, path.name, style, style_name, settings, None, fast, progress, stop
            )
            progress.close()
            target = args.out / f"{path.stem}_{style_name}.png"
            target.write_bytes(workspace.artifact_path(outcome.run_id, "result.png").read_bytes())
            rows.append({"file": str(target), "run_id": outcome.run_id, **outcome.result.measures.as_dict()})
            if stop.is_set():
                break
    print(json.dumps(rows, indent=2))
    return 0


def train_command(args: argparse.Namespace) -> int:
    style_name, style = load_style(args.style)
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = train_and_record(
            workspace,
            style,
            style_name,
            progress,
            stop,
            seconds=args.seconds,
            steps=args.steps,
            seed=args.seed,
        )
    progress.close()
    summary = {
        "run_id": outcome.run_id,
        "style": style_name,
        "store_key": outcome.fast_style.folder.name,
        "trained_now": outcome.trained_now,
        "training": outcome.fast_style.card.training,
    }
    print(json.dumps(summary, indent=2))
    return 0
