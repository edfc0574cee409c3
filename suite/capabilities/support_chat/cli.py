"""`aigc chat`: the support chatbot from the terminal.

Example:
    $ aigc chat ingest help-centre/ --kb help
    $ aigc chat ask "How long is the warranty?" --kb help
    $ aigc chat intents train intents.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shared_models.exceptions import InputError
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("chat", help="support chatbot: ingest help content, ask, train intents")
    sub = parser.add_subparsers(dest="chat_command", required=True, metavar="ACTION")

    ingest = sub.add_parser("ingest", help="ingest a folder of .md/.txt/.html/.pdf/FAQ .csv files")
    ingest.add_argument("folder", type=Path)
    ingest.add_argument("--kb", required=True, help="knowledge base name (created if missing)")
    ingest.set_defaults(handler=ingest_command)

    ask = sub.add_parser("ask", help="ask the bot one question; prints the checked answer and its sources")
    ask.add_argument("question")
    ask.add_argument("--kb", default="demo", help="knowledge base (default: the bundled demo help centre)")
    ask.add_argument("--max-tokens", type=int, default=160)
    ask.add_argument("--show-removed", action="store_true", help="also print the sentences the check removed")
    ask.set_defaults(handler=ask_command)

    intents = sub.add_parser("intents", help="intent classifier")
    intents_sub = intents.add_subparsers(dest="intents_command", required=True, metavar="ACTION")
    train = intents_sub.add_parser("train", help="train from a CSV with columns text,intent[,response]")
    train.add_argument("csv", type=Path)
    train.add_argument("--test-size", type=float, default=0.2, help="held-out share per intent (default 0.2)")
    train.set_defaults(handler=train_intents_command)


def _store(workspace: Workspace) -> Any:
    from domains.services.chatbot import SupportStore
    from suite.capabilities.support_chat.runner import store_path

    return SupportStore(store_path(workspace.root))


def ingest_command(args: argparse.Namespace) -> int:
    from domains.services.chatbot.ingest import read_folder
    from suite.capabilities.support_chat.runner import ingest_and_record

    workspace = Workspace.from_env()
    outcome = ingest_and_record(workspace, _store(workspace), args.kb, read_folder(args.folder))
    for row in outcome.rows():
        note = f" ({row['quarantined']} instruction-like sentences quarantined)" if row["quarantined"] else ""
        problem = f": {row['problem']}" if row["problem"] else ""
        print(f"{row['status']:>9}  {row['file']}  {row['chunks']} chunks{note}{problem}")
    print(
        f"run {outcome.run_id}: {len(outcome.reports)} files in knowledge base '{args.kb}'", file=sys.stderr
    )
    return 0 if not outcome.errors else 1


def ask_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from domains.services.chatbot import BotConfig, ChatSession, SupportBot
    from shared_models.lm import LMConfig, build_text_generator
    from suite.capabilities.support_chat.runner import DEMO_KB, ensure_demo_kb, load_intents

    workspace = Workspace.from_env()
    store = _store(workspace)
    if args.kb == DEMO_KB:
        ensure_demo_kb(store)
    if store.revision(args.kb) < 0:
        raise InputError(f"there is no knowledge base '{args.kb}'; run `aigc chat ingest DIR --kb {args.kb}`")
    lm = build_text_generator(LMConfig.from_env(cache_dir=str(workspace.root / "cache" / "lm")))
    config = BotConfig()
    config = replace(config, answer=replace(config.answer, max_tokens=args.max_tokens))
    bot = SupportBot(store, args.kb, lm, intents=load_intents(workspace.root), config=config)
    with workspace.start_run("chat.ask", {"kb": args.kb, "model": lm.model_name}) as run:
        reply = bot.respond(ChatSession(id=f"cli-{run.id}"), args.question)
        for piece in reply:
            print(piece, end="", flush=True)
        print()
        result = reply.result
        for citation in result.citations:
            print(f"  [{citation.number}] {citation.title} - {citation.heading} ({citation.source})")
        if args.show_removed and result.answer is not None:
            for sentence in result.answer.removed:
                print(f"  removed: {sentence.text}  ({sentence.reason})", file=sys.stderr)
        metrics: dict[str, Any] = {"confidence": result.confidence, "citations": len(result.citations)}
        if result.answer is not None:
            metrics |= {
                "first_token_s": result.answer.first_token_s,
                "removed_sentences": len(result.answer.removed),
            }
        run.log_params({"route": result.route, "ticket": result.ticket})
        run.log_metrics(metrics)
        run.save_json(
            "answer.json",
            {"question": args.question, "answer": result.text, "route": result.route,
             "sources": [c.source for c in result.citations]},
        )  # fmt: skip
    print(f"[{result.route}, confidence {result.confidence:.2f}]", file=sys.stderr)
    return 0


def train_intents_command(args: argparse.Namespace) -> int:
    from suite.capabilities.support_chat.runner import train_intents_and_record

    try:
        data = args.csv.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {args.csv}: {exc.strerror}") from exc
    outcome = train_intents_and_record(Workspace.from_env(), data, args.csv.name, args.test_size)
    print(f"run {outcome.run_id}: {outcome.intents} intents, {outcome.examples} examples")
    if outcome.report is not None:
        print(
            f"held-out accuracy {outcome.report.accuracy:.1%} on {outcome.report.n_test} examples "
            f"(trained in {outcome.report.train_seconds:.1f} s)"
        )
    else:
        print("too few examples per intent to hold any out; trained on all of them")
    return 0
