"""`aigc defects`: train an inspector on good images, inspect folders, train a defect-type classifier.

Example:
    $ aigc defects train --normal good_parts/ --detector patch_stats --false-alarm-rate 0.05
    $ aigc defects train --surface brick --detector draem --seconds 600
    $ aigc defects train --mvtec mvtec/bottle
    $ aigc defects inspect 12 incoming/ --report report.csv --overlays overlays.zip
    $ aigc defects classify --labelled neu_images/
    $ aigc defects list
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domains.manufacturing.inspection.classifier import ClassifierTrainConfig
from domains.manufacturing.inspection.detectors import DETECTORS
from domains.manufacturing.inspection.labelled import load_labelled_folder
from domains.manufacturing.inspection.pipeline import InspectorSpec, load_inspector
from domains.manufacturing.inspection.surfaces import SURFACES
from domains.manufacturing.inspection.uploads import load_images_from_folder, load_mvtec_category
from shared_models.exceptions import InputError
from suite.capabilities.defect_inspection.runner import (
    benchmark_set,
    classify_and_record,
    inspect_and_record,
    list_models,
    open_inspector,
    train_and_record,
)
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]

NETWORK_DETECTORS = ("autoencoder", "draem")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "defects", help="Defect Inspection: learn good parts, flag and outline defects"
    )
    sub = parser.add_subparsers(dest="defects_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train an inspector on good images (a recorded run)")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--normal", type=Path, help="folder of good images (all one size, or use --size)")
    source.add_argument("--surface", choices=sorted(SURFACES), help="a built-in benchmark surface")
    source.add_argument("--mvtec", type=Path, help="a category folder in the MVTec AD layout")
    train.add_argument("--detector", choices=sorted(DETECTORS), default="patch_stats")
    train.add_argument(
        "--false-alarm-rate", type=float, default=0.05, help="share of good parts allowed to fail"
    )
    train.add_argument("--seconds", type=float, default=None, help="training budget of network detectors")
    train.add_argument("--size", type=int, default=None, help="resize images to this square side")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=train_command)

    inspect = sub.add_parser("inspect", help="inspect every image of a folder with a trained inspector")
    inspect.add_argument("model", help="run id of a `defects train` run, or a saved model folder")
    inspect.add_argument("folder", type=Path, help="folder of images to inspect")
    inspect.add_argument("--report", type=Path, default=None, help="write the CSV report here")
    inspect.add_argument("--overlays", type=Path, default=None, help="write a zip of overlay images here")
    inspect.add_argument("--threshold", type=float, default=None, help="override the calibrated threshold")
    inspect.set_defaults(handler=inspect_command)

    classify = sub.add_parser("classify", help="train a defect-type classifier on labelled defect images")
    classify.add_argument(
        "--labelled", type=Path, required=True, help="class sub-folders or <class>_<n> names"
    )
    classify.add_argument("--steps", type=int, default=400)
    classify.add_argument("--test-fraction", type=float, default=0.3)
    classify.add_argument("--seed", type=int, default=0)
    classify.set_defaults(handler=classify_command)

    listing = sub.add_parser("list", help="trained inspectors in the workspace")
    listing.set_defaults(handler=list_command)


def _spec(args: argparse.Namespace) -> InspectorSpec:
    settings: dict[str, Any] = {"seed": args.seed}
    if args.seconds is not None:
        if args.detector not in NETWORK_DETECTORS:
            raise InputError(f"--seconds applies to {' and '.join(NETWORK_DETECTORS)}, not {args.detector}")
        settings.update(seconds=args.seconds, steps=None)
    if args.detector == "draem" and args.surface:
        settings["exclude_textures"] = (args.surface,)  # its own texture is normal, not an anomaly
    return InspectorSpec(detector=args.detector, settings=settings, false_alarm_rate=args.false_alarm_rate)


def train_command(args: argparse.Namespace) -> int:
    spec = _spec(args)
    if args.surface:
        data: Any = benchmark_set(args.surface, image_size=args.size or 256, seed=args.seed)
        source = {"kind": "built-in", "surface": args.surface, "image_size": args.size or 256}
    elif args.mvtec:
        data = load_mvtec_category(args.mvtec, size=args.size, seed=args.seed)
        source = {"kind": "mvtec", "folder": str(args.mvtec)}
    else:
        images, _, report = load_images_from_folder(args.normal, resize_to=args.size)
        data, source = images, {"kind": "folder", "folder": str(args.normal), "skipped": len(report.skipped)}
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = train_and_record(workspace, data, source, spec, progress, stop)
    progress.close()
    if outcome is None:
        print("stopped before the first training step finished; nothing was kept")
        return 130
    summary: dict[str, Any] = {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "model": str(workspace.run_dir(outcome.run_id) / "model"),
        "image_threshold": outcome.inspector.image_threshold,
        "train_seconds": outcome.inspector.fit.seconds if outcome.inspector.fit else None,
    }
    if outcome.evaluation is not None:
        summary["evaluation"] = outcome.evaluation.as_metrics()
    print(json.dumps(summary, indent=2))
    return 0


def inspect_command(args: argparse.Namespace) -> int:
    workspace = Workspace.from_env()
    if args.model.isdigit():
        model_run, inspector = int(args.model), open_inspector(workspace, int(args.model))
    else:
        model_run, inspector = 0, load_inspector(args.model)
    height, width = inspector.image_size
    images, names, report = load_images_from_folder(args.folder, resize_to=(height, width), min_images=1)
    outcome = inspect_and_record(workspace, model_run, inspector, images, names, args.threshold)
    if args.report:
        args.report.write_bytes(workspace.artifact_path(outcome.run_id, "report.csv").read_bytes())
    if args.overlays:
        args.overlays.write_bytes(workspace.artifact_path(outcome.run_id, "overlays.zip").read_bytes())
    summary = {
        "run_id": outcome.run_id,
        "images": len(names),
        "failed": outcome.report.failed,
        "skipped": report.skipped,
        "ms_per_image": round(outcome.report.ms_per_image, 2),
        "failed_images": [v.name for v in outcome.report.verdicts if not v.passed],
    }
    print(json.dumps(summary, indent=2))
    return 0


def classify_command(args: argparse.Namespace) -> int:
    config = ClassifierTrainConfig(steps=args.steps, seed=args.seed)
    data, report = load_labelled_folder(args.labelled, image_size=config.image_size)
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = classify_and_record(
            workspace, data, {"folder": str(args.labelled)}, config, args.test_fraction, progress, stop
        )
    progress.close()
    evaluation = outcome.evaluation
    summary = {
        "run_id": outcome.run_id,
        "accuracy": round(evaluation.accuracy, 4),
        "classes": evaluation.class_names,
        "confusion": evaluation.confusion.tolist(),
        "train_images": evaluation.train_count,
        "test_images": evaluation.test_count,
        "skipped": len(report.skipped),
    }
    print(json.dumps(summary, indent=2))
    return 0


def list_command(args: argparse.Namespace) -> int:
    workspace = Workspace.from_env()
    rows = [
        {
            "run_id": r.id,
            "status": r.status,
            "detector": r.params.get("detector"),
            "source": r.params.get("source"),
            "image_auroc": r.metrics.get("image_auroc"),
            "started": r.started,
        }
        for r in list_models(workspace)
    ]
    print(json.dumps(rows, indent=2))
    return 0
