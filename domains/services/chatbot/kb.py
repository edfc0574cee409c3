"""The support store: knowledge bases, chunks with embeddings, conversations, feedback and tickets.

One SQLite file (WAL mode) owned by this class; the suite decides where it lives (inside the workspace,
e.g. ``AIGC_HOME/chatbot/support.sqlite``). Embeddings are float32 BLOBs (no pickle). Every change is
one transaction taken with the write lock up front, so re-ingesting a file swaps its chunks atomically
and a failure leaves the previous version in place. Each knowledge base has a revision number that
changes with its content, so search indexes built from it know when to rebuild.

Example:
    >>> store = SupportStore(tmp / "support.sqlite")
    >>> store.ingest("help", "returns.md", b"# Returns\\n\\nReturn within 30 days.")
    >>> [c.source for c in store.chunks("help")]
    ['returns.md']
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from domains.services.chatbot.ingest import ChunkingConfig, chunk_document, parse_document
from shared_models.embeddings import EMBEDDING_DIM
from shared_models.exceptions import InputError, WorkspaceError

__all__ = [
    "IngestReport",
    "KnowledgeBase",
    "StoredChunk",
    "SupportStore",
    "Ticket",
    "TurnRecord",
    "check_kb_name",
]

BUSY_TIMEOUT_S = 30.0
_KB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
Embedder = Callable[[Sequence[str]], np.ndarray]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kbs (
        name TEXT PRIMARY KEY, created TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS documents (
        kb TEXT NOT NULL REFERENCES kbs(name) ON DELETE CASCADE, source TEXT NOT NULL,
        title TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
        chunks INTEGER NOT NULL, quarantined TEXT NOT NULL DEFAULT '[]', ingested TEXT NOT NULL,
        PRIMARY KEY (kb, source))""",
    """CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kb TEXT NOT NULL, source TEXT NOT NULL,
        position INTEGER NOT NULL, title TEXT NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL,
        embedding BLOB NOT NULL,
        FOREIGN KEY (kb, source) REFERENCES documents(kb, source) ON DELETE CASCADE)""",
    "CREATE INDEX IF NOT EXISTS chunks_by_kb ON chunks (kb, source, position)",
    """CREATE TABLE IF NOT EXISTS turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, kb TEXT NOT NULL,
        created TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, route TEXT NOT NULL,
        confidence REAL NOT NULL, intent TEXT, sources TEXT NOT NULL DEFAULT '[]',
        feedback INTEGER CHECK (feedback IN (-1, 1)), ticket INTEGER)""",
    "CREATE INDEX IF NOT EXISTS turns_by_session ON turns (session, id)",
    """CREATE TABLE IF NOT EXISTS tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, kb TEXT NOT NULL,
        created TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
        transcript TEXT NOT NULL)""",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_kb_name(name: str) -> str:
    """A knowledge-base name: 1-64 letters, digits, spaces, ``_ . -``; raises `InputError` otherwise."""
    if not isinstance(name, str) or not _KB_NAME.match(name.strip()):
        raise InputError(
            f"knowledge base name {name!r} is not valid: use 1-64 letters, digits, spaces, '_', '.' or '-'"
        )
    return name.strip()


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    created: str
    revision: int
    documents: int
    chunks: int


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: ``number`` is its row id (stable until its file is re-ingested)."""

    id: int
    kb: str
    source: str
    position: int
    title: str
    heading: str
    text: str

    @property
    def search_text(self) -> str:
        heading = "" if self.heading == self.title else f" - {self.heading}"
        return f"{self.title}{heading}. {self.text}"


@dataclass(frozen=True)
class IngestReport:
    """What one file's ingestion did."""

    source: str
    title: str
    kind: str
    chunks: int
    replaced: int
    unchanged: bool
    quarantined: tuple[str, ...]


@dataclass(frozen=True)
class TurnRecord:
    id: int
    session: str
    kb: str
    created: str
    question: str
    answer: str
    route: str
    confidence: float
    intent: str | None
    sources: list[str]
    feedback: int | None
    ticket: int | None


@dataclass(frozen=True)
class Ticket:
    id: int
    session: str
    kb: str
    created: str
    reason: str
    status: str
    transcript: list[dict[str, str]]


class SupportStore:
    """The chatbot's SQLite store at ``path`` (created with its folder when missing).

    Args:
        path: The database file.
        embedder: Turns texts into unit vectors (default: MiniLM from `shared_models.embeddings`).

    Raises:
        WorkspaceError: The file cannot be created or is not a support store.
    """

    def __init__(self, path: str | os.PathLike[str], embedder: Embedder | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self._embedder = embedder
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                for statement in SCHEMA:
                    conn.execute(statement)
            finally:
                conn.close()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise WorkspaceError(
                f"cannot open the support store {self.path} ({exc}); move it aside or pick another folder"
            ) from exc

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embedder is None:
            from shared_models.embeddings import embed

            self._embedder = embed
        return np.asarray(self._embedder(list(texts)), dtype=np.float32)

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"the support store {self.path} failed: {exc}") from exc
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"the support store {self.path} failed: {exc}") from exc
        finally:
            conn.close()

    # -- knowledge bases -----------------------------------------------------------------------

    def create_kb(self, name: str) -> str:
        name = check_kb_name(name)
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO kbs (name, created) VALUES (?, ?)", (name, _now()))
        return name

    def list_kbs(self) -> list[KnowledgeBase]:
        with self._read() as conn:
            rows = conn.execute(
                """SELECT k.name, k.created, k.revision,
                          (SELECT COUNT(*) FROM documents d WHERE d.kb = k.name) AS documents,
                          (SELECT COUNT(*) FROM chunks c WHERE c.kb = k.name) AS chunks
                   FROM kbs k ORDER BY k.name"""
            ).fetchall()
        return [KnowledgeBase(**dict(r)) for r in rows]

    def revision(self, kb: str) -> int:
        """Changes whenever the knowledge base's content does (-1 when it does not exist)."""
        with self._read() as conn:
            row = conn.execute("SELECT revision FROM kbs WHERE name = ?", (kb,)).fetchone()
        return -1 if row is None else int(row[0])

    def delete_kb(self, name: str) -> bool:
        with self._write() as conn:
            conn.execute("DELETE FROM chunks WHERE kb = ?", (name,))
            conn.execute("DELETE FROM documents WHERE kb = ?", (name,))
            return conn.execute("DELETE FROM kbs WHERE name = ?", (name,)).rowcount > 0

    def documents(self, kb: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT source, title, kind, chunks, bytes, quarantined, ingested FROM documents "
                "WHERE kb = ? ORDER BY source",
                (kb,),
            ).fetchall()
        return [{**dict(r), "quarantined": json.loads(r["quarantined"])} for r in rows]

    # -- ingestion -----------------------------------------------------------------------------

    def ingest(self, kb: str, name: str, data: bytes, config: ChunkingConfig | None = None) -> IngestReport:
        """Parse, chunk, embed and store one file; a file already there is replaced as a whole.

        Args:
            kb: Knowledge base (created if missing).
            name: File name, the source shown in citations.
            data: Raw bytes (checked by `parse_document`).
            config: Chunk sizes.

        Returns:
            An `IngestReport`; ``unchanged`` when the same bytes were already ingested.

        Raises:
            InputError: The file is unsupported, empty, binary, broken or encrypted.
        """
        kb = check_kb_name(kb)
        sha = hashlib.sha256(data).hexdigest()
        with self._read() as conn:
            existing = conn.execute(
                "SELECT sha256, chunks, title, kind, quarantined FROM documents WHERE kb = ? AND source = ?",
                (kb, name),
            ).fetchone()
        if existing is not None and existing["sha256"] == sha:
            return IngestReport(
                name, existing["title"], existing["kind"], existing["chunks"], 0, True,
                tuple(json.loads(existing["quarantined"])),
            )  # fmt: skip
        document = parse_document(name, data)
        drafts, quarantined = chunk_document(document, config)
        if not drafts:
            raise InputError(f"{name} holds no usable text after removing instruction-like sentences")
        vectors = self.embed([d.search_text for d in drafts])
        assert vectors.shape == (len(drafts), EMBEDDING_DIM), vectors.shape
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO kbs (name, created) VALUES (?, ?)", (kb, _now()))
            replaced = conn.execute("DELETE FROM chunks WHERE kb = ? AND source = ?", (kb, name)).rowcount
            conn.execute("DELETE FROM documents WHERE kb = ? AND source = ?", (kb, name))
            conn.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kb, name, document.title, document.kind, sha, len(data), len(drafts),
                 json.dumps(quarantined), _now()),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO chunks (kb, source, position, title, heading, text, embedding) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (kb, name, d.position, d.title, d.heading, d.text, v.astype("<f4").tobytes())
                    for d, v in zip(drafts, vectors, strict=True)
                ],
            )
            conn.execute("UPDATE kbs SET revision = revision + 1 WHERE name = ?", (kb,))
        return IngestReport(
            name, document.title, document.kind, len(drafts), replaced, False, tuple(quarantined)
        )

    def delete_document(self, kb: str, source: str) -> int:
        """Remove a file and its chunks; returns how many chunks went."""
        with self._write() as conn:
            removed = conn.execute("DELETE FROM chunks WHERE kb = ? AND source = ?", (kb, source)).rowcount
            gone = conn.execute("DELETE FROM documents WHERE kb = ? AND source = ?", (kb, source)).rowcount
            if gone:
                conn.execute("UPDATE kbs SET revision = revision + 1 WHERE name = ?", (kb,))
        return removed

    def chunks(self, kb: str) -> list[StoredChunk]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, kb, source, position, title, heading, text FROM chunks "
                "WHERE kb = ? ORDER BY source, position",
                (kb,),
            ).fetchall()
        return [StoredChunk(**dict(r)) for r in rows]

    def load_index_data(self, kb: str) -> tuple[list[StoredChunk], np.ndarray, int]:
        """Chunks, their embeddings ``(n, 384)`` and the revision they belong to, read in one snapshot."""
        with self._read() as conn:
            conn.execute("BEGIN")  # one consistent snapshot across the three reads
            revision_row = conn.execute("SELECT revision FROM kbs WHERE name = ?", (kb,)).fetchone()
            rows = conn.execute(
                "SELECT id, kb, source, position, title, heading, text, embedding FROM chunks "
                "WHERE kb = ? ORDER BY source, position",
                (kb,),
            ).fetchall()
            conn.execute("COMMIT")
        if revision_row is None:
            raise InputError(f"there is no knowledge base named {kb!r}; ingest files into it first")
        chunks = [StoredChunk(**{k: r[k] for k in r.keys() if k != "embedding"}) for r in rows]  # noqa: SIM118
        matrix = (
            np.stack([np.frombuffer(r["embedding"], dtype="<f4") for r in rows])
            if rows
            else np.zeros((0, EMBEDDING_DIM), np.float32)
        )
        return chunks, matrix.astype(np.float32), int(revision_row[0])

    # -- conversations -------------------------------------------------------------------------

    def add_turn(
        self,
        session: str,
        kb: str,
        question: str,
        answer: str,
        route: str,
        confidence: float,
        intent: str | None = None,
        sources: Sequence[str] = (),
        ticket: int | None = None,
    ) -> int:
        """Store one exchange (the caller masks personal data first); returns its id."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO turns (session, kb, created, question, answer, route, confidence, intent, "
                "sources, ticket) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session, kb, _now(), question, answer, route, float(confidence), intent,
                 json.dumps(list(sources)), ticket),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def set_feedback(self, turn_id: int, vote: int) -> None:
        """Thumbs up (1) or down (-1) on a stored turn."""
        if vote not in (-1, 1):
            raise InputError("feedback is 1 (helpful) or -1 (not helpful)")
        with self._write() as conn:
            if conn.execute("UPDATE turns SET feedback = ? WHERE id = ?", (vote, turn_id)).rowcount == 0:
                raise InputError(f"there is no conversation turn {turn_id}")

    def turns(self, session: str | None = None, kb: str | None = None, limit: int = 1000) -> list[TurnRecord]:
        clauses, args = [], []
        if session is not None:
            clauses.append("session = ?")
            args.append(session)
        if kb is not None:
            clauses.append("kb = ?")
            args.append(kb)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT * FROM turns {where} ORDER BY id DESC LIMIT ?", (*args, limit)
            ).fetchall()
        return [TurnRecord(**{**dict(r), "sources": json.loads(r["sources"])}) for r in reversed(rows)]

    def feedback_stats(self, kb: str | None = None) -> dict[str, int]:
        where, args = ("WHERE kb = ?", (kb,)) if kb else ("", ())
        with self._read() as conn:
            row = conn.execute(
                f"""SELECT COUNT(*) AS turns, COALESCE(SUM(feedback = 1), 0) AS helpful,
                           COALESCE(SUM(feedback = -1), 0) AS not_helpful,
                           COALESCE(SUM(route IN ('declined', 'fallback', 'clarify')), 0) AS unanswered,
                           COALESCE(SUM(ticket IS NOT NULL), 0) AS handed_off
                    FROM turns {where}""",
                args,
            ).fetchone()
        return {k: int(row[k]) for k in row.keys()}  # noqa: SIM118 (a Row iterates values)

    # -- tickets -------------------------------------------------------------------------------

    def create_ticket(self, session: str, kb: str, reason: str, transcript: Sequence[dict[str, str]]) -> int:
        """Open an escalation ticket holding the (already masked) conversation so far."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO tickets (session, kb, created, reason, transcript) VALUES (?, ?, ?, ?, ?)",
                (session, kb, _now(), reason, json.dumps(list(transcript))),
            )
            return int(cursor.lastrowid or 0)

    def tickets(self, status: str | None = None) -> list[Ticket]:
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._read() as conn:
            rows = conn.execute(f"SELECT * FROM tickets {where} ORDER BY id DESC", args).fetchall()
        return [Ticket(**{**dict(r), "transcript": json.loads(r["transcript"])}) for r in rows]

    def close_ticket(self, ticket_id: int) -> None:
        with self._write() as conn:
            if conn.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (ticket_id,)).rowcount == 0:
                raise InputError(f"there is no ticket {ticket_id}")
