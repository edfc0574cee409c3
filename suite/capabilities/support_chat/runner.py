"""The support chatbot's recorded operations (used by the Support pages and `aigc chat`).

The chatbot keeps its own store (knowledge bases, turns, feedback, tickets) in the workspace folder at
``chatbot/support.sqlite`` and the active intent model at ``chatbot/intents/``. Ingestion and intent
training are also workspace runs, with their reports as artifacts; each CLI question is a run too.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from domains.services.chatbot import DEMO_KB_DIR, IngestReport, SupportStore
from domains.services.chatbot.ingest import read_folder
from domains.services.chatbot.intents import (
    IntentClassifier,
    IntentReport,
    parse_intents_csv,
    stratified_split,
)
from shared_models.exceptions import InputError
from suite.workspace import Workspace

__all__ = [
    "DEMO_KB",
    "IngestOutcome",
    "IntentsOutcome",
    "ensure_demo_kb",
    "ingest_and_record",
    "intents_dir",
    "load_intents",
    "store_path",
    "train_intents_and_record",
]

DEMO_KB = "demo"
MIN_EXAMPLES_TO_EVALUATE = 3  # per intent: fewer, and the model trains on all of them without a test


def store_path(root: str | Path) -> Path:
    """Where the support store lives inside a workspace."""
    return Path(root) / "chatbot" / "support.sqlite"


def intents_dir(root: str | Path) -> Path:
    """The active intent model inside a workspace."""
    return Path(root) / "chatbot" / "intents"


def ensure_demo_kb(store: SupportStore) -> None:
    """Ingest the bundled demo help centre once, so a fresh workspace can chat straight away."""
    if any(kb.name == DEMO_KB and kb.chunks for kb in store.list_kbs()):
        return
    for name, data in read_folder(DEMO_KB_DIR):
        store.ingest(DEMO_KB, name, data)


@dataclass
class IngestOutcome:
    run_id: int
    reports: list[IngestReport]
    errors: dict[str, str]

    def rows(self) -> list[dict[str, object]]:
        """One row per file for tables and CSV."""
        ok = [
            {"file": r.source, "status": "unchanged" if r.unchanged else "ingested", "chunks": r.chunks,
             "replaced": r.replaced, "quarantined": len(r.quarantined), "problem": ""}
            for r in self.reports
        ]  # fmt: skip
        bad = [
            {"file": n, "status": "refused", "chunks": 0, "replaced": 0, "quarantined": 0, "problem": e}
            for n, e in self.errors.items()
        ]
        return ok + bad


def ingest_and_record(
    workspace: Workspace, store: SupportStore, kb: str, files: Sequence[tuple[str, bytes]]
) -> IngestOutcome:
    """Ingest files into a knowledge base as one run; a bad file is reported and the rest still go in.

    Raises:
        InputError: No files, or every file was refused.
    """
    if not files:
        raise InputError("choose at least one file to ingest")
    params = {"kb": kb, "files": [name for name, _ in files], "bytes": sum(len(d) for _, d in files)}
    with workspace.start_run("chat.ingest", params) as run:
        reports, errors = [], {}
        for name, data in files:
            try:
                reports.append(store.ingest(kb, name, data))
            except InputError as exc:
                errors[name] = str(exc)
        outcome = IngestOutcome(run.id, reports, errors)
        run.log_metrics(
            {
                "files": len(reports),
                "refused": len(errors),
                "chunks": sum(r.chunks for r in reports),
                "quarantined": sum(len(r.quarantined) for r in reports),
            }
        )
        run.save_json("ingest_report.json", {"kb": kb, "files": outcome.rows()})
        if not reports:
            raise InputError("no file could be ingested: " + "; ".join(errors.values()))
    return outcome


@dataclass
class IntentsOutcome:
    run_id: int
    model: IntentClassifier
    report: IntentReport | None
    intents: int
    examples: int

    def confusion_csv(self) -> str:
        if self.report is None:
            return ""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["true \\ predicted", *self.report.labels])
        for label, row in zip(self.report.labels, self.report.confusion, strict=True):
            writer.writerow([label, *row.tolist()])
        return out.getvalue()


def train_intents_and_record(
    workspace: Workspace, data: bytes, name: str, test_size: float = 0.2, seed: int = 0
) -> IntentsOutcome:
    """Train the intent classifier from a CSV as a run and make it the active model.

    A stratified ``test_size`` share of every intent is held out to measure accuracy (when each intent
    has at least 3 examples); the active model is then refitted on all examples.
    """
    parsed = parse_intents_csv(data, name)
    counts = {label: parsed.labels.count(label) for label in set(parsed.labels)}
    params = {"file": name, "examples": len(parsed.texts), "intents": len(counts), "test_size": test_size}
    with workspace.start_run("chat.intents", params) as run:
        from shared_models.embeddings import embed

        vectors = embed(parsed.texts)
        report = None
        if min(counts.values()) >= MIN_EXAMPLES_TO_EVALUATE:
            train, test = stratified_split(parsed.labels, test_size, seed)
            held_out = IntentClassifier().fit(
                [parsed.texts[i] for i in train], [parsed.labels[i] for i in train], embeddings=vectors[train]
            )
            report = held_out.evaluate(
                [parsed.texts[i] for i in test], [parsed.labels[i] for i in test], embeddings=vectors[test]
            )
        model = IntentClassifier().fit(parsed.texts, parsed.labels, parsed.responses, embeddings=vectors)
        model.save(run.dir / "intents")
        run.add_artifact("intents")
        outcome = IntentsOutcome(run.id, model, report, len(counts), len(parsed.texts))
        metrics: dict[str, float] = {"train_seconds": model.train_seconds_}
        if report is not None:
            metrics |= {"accuracy": report.accuracy, "test_examples": report.n_test}
            run.save_text("confusion.csv", outcome.confusion_csv())
        run.log_metrics(metrics)
    # Activate only after the run has finished cleanly: copy into place, then swap folders.
    target = intents_dir(workspace.root)
    staging = target.with_name("intents.new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(workspace.run_dir(outcome.run_id) / "intents", staging)
    old = target.with_name("intents.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return outcome


def load_intents(root: str | Path) -> IntentClassifier | None:
    """The active intent model of a workspace, or None when none was trained."""
    folder = intents_dir(root)
    if not (folder / "intents.json").exists():
        return None
    return IntentClassifier.load(folder)
