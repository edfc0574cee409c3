"""`aigc script`: draft a screenplay from a logline, train a voice on your scripts and continue a scene.

Example:
    $ aigc script draft --logline "A ferry captain sails one last night." --scenes 5 --out draft.fountain
    $ aigc script draft --reopen 12 --out draft.fountain --pdf draft.pdf     # finish a stopped draft
    $ aigc script train my_scripts.fountain --seconds 120 --scene opening.fountain --chars 400
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shared_models.exceptions import InputError
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace, default_root

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("script", help="screenplays: draft from a logline, train on your scripts")
    sub = parser.add_subparsers(dest="script_command", required=True, metavar="ACTION")

    draft = sub.add_parser("draft", help="write a screenplay draft in Fountain with the configured model")
    source = draft.add_mutually_exclusive_group(required=True)
    source.add_argument("--logline", help="one or two sentences: who wants what, and what is in the way")
    source.add_argument("--reopen", type=int, metavar="RUN", help="complete the draft saved by this run")
    draft.add_argument("--scenes", type=int, default=5, help="scenes in the outline (1-12, default 5)")
    draft.add_argument("--cast", type=int, default=3, help="main characters (1-6, default 3)")
    draft.add_argument("--lines", type=int, default=6, help="most dialogue lines per scene (2-8, default 6)")
    draft.add_argument("--genre", default="drama")
    draft.add_argument("--tone", default="warm")
    draft.add_argument("--audience", default="general")
    draft.add_argument("--seed", type=int, default=0, help="same seed and model, same draft")
    draft.add_argument("--temperature", type=float, default=0.8)
    draft.add_argument("--out", type=Path, help="write the Fountain text here (default: stdout)")
    draft.add_argument("--pdf", type=Path, help="also write a PDF in screenplay layout")
    draft.add_argument("--html", type=Path, help="also write an HTML page in screenplay layout")
    draft.set_defaults(handler=draft_command)

    train = sub.add_parser("train", help="train a small GPT on a corpus of scripts, then continue a scene")
    train.add_argument("corpus", type=Path, help="UTF-8 text (.fountain or .txt), at most 3 MB")
    train.add_argument("--seconds", type=float, default=120.0, help="training budget (default 120)")
    train.add_argument("--preset", choices=("tiny", "small"), default="small")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--scene", type=Path, help="a Fountain file whose end the model continues")
    train.add_argument("--chars", type=int, default=400, help="characters to add (default 400)")
    train.add_argument("--temperature", type=float, default=0.8)
    train.set_defaults(handler=train_command)


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc
    print(f"wrote {path}", file=sys.stderr)


def draft_command(args: argparse.Namespace) -> int:
    from domains.entertainment.scripts import DraftSettings, ScriptWriter, to_html, to_pdf
    from shared_models.lm import LMConfig, build_text_generator
    from suite.capabilities.script_writer.runner import load_draft, write_and_record

    workspace = Workspace.from_env()
    if args.reopen is not None:
        target: Any = load_draft(workspace, args.reopen)
    else:
        target = DraftSettings(
            args.logline,
            genre=args.genre,
            tone=args.tone,
            audience=args.audience,
            scenes=args.scenes,
            cast_size=args.cast,
            lines_per_scene=args.lines,
            seed=args.seed,
            temperature=args.temperature,
        )
    lm = build_text_generator(LMConfig.from_env(cache_dir=str(default_root() / "cache" / "lm")))
    if lm.notice:
        print(f"note: {lm.notice}", file=sys.stderr)
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = write_and_record(
            workspace, ScriptWriter(lm), target, ("title", "cast", "outline", "scenes"), progress, stop
        )
    progress.close()
    draft = outcome.draft
    status = "stopped" if outcome.stopped else "done"
    print(
        f"run {outcome.run_id} {status}: '{draft.title}', {draft.scenes_written}/{len(draft.outline)} scenes "
        f"by {lm.model_name}",
        file=sys.stderr,
    )
    text = draft.to_fountain()
    if args.out:
        _write(args.out, text.encode("utf-8"))
    else:
        print(text, end="")
    if args.pdf:
        _write(args.pdf, to_pdf(draft.to_screenplay()))
    if args.html:
        _write(args.html, to_html(draft.to_screenplay(), standalone=True).encode("utf-8"))
    return 130 if outcome.stopped else 0


def train_command(args: argparse.Namespace) -> int:
    from domains.entertainment.scripts.voice import VoiceOptions, check_script_corpus, continue_scene
    from shared_models.gpt_train import GPTTrainSpec
    from suite.capabilities.script_writer.runner import train_voice_and_record

    corpus = check_script_corpus(_read_bytes(args.corpus, "corpus"))
    scene = _read_bytes(args.scene, "scene").decode("utf-8", "replace") if args.scene else None
    options = VoiceOptions(chars=args.chars, temperature=args.temperature, seed=args.seed)
    print(
        f"corpus: {corpus.characters:,} characters, {corpus.scene_headings} scene headings, "
        f"{corpus.character_cues} character cues",
        file=sys.stderr,
    )
    spec = GPTTrainSpec(preset=args.preset, seconds=args.seconds, seed=args.seed)
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = train_voice_and_record(workspace, corpus, spec, args.corpus.name, progress, stop)
    progress.close()
    trained = outcome.trained
    print(
        f"run {outcome.run_id}: {trained.steps} steps in {trained.seconds:.0f} s, validation loss "
        f"{trained.val_loss:.3f}",
        file=sys.stderr,
    )
    if scene is not None:
        result = continue_scene(trained, scene, options)
        print(result.text)
    return 0
