"""The workspace: a SQLite run store plus one artifacts folder per run.

Layout under the root (``AIGC_HOME``, default ``./workspace``)::

    runs.db            SQLite, WAL mode: one row per run (params, metrics, status, artifacts)
    runs/<id>/         files a run produced (images, meshes, CSV, models)

Every call opens its own short-lived connection, so one `Workspace` can be shared by all Streamlit
sessions and threads, and several processes can write at once: writes take SQLite's write lock up
front (``BEGIN IMMEDIATE``) and wait for it (``busy_timeout``), so none is lost. A run records the
process that owns it; a run whose process has died is reported as failed rather than running forever.

Example:
    >>> ws = Workspace.from_env()
    >>> with ws.start_run("lab.train", {"model": "cvae"}) as run:
    ...     run.log_metrics({"accuracy": 0.93})
    ...     run.save_bytes("grid.png", png_bytes)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from shared_models.exceptions import InputError, WorkspaceError

__all__ = [
    "SCHEMA_VERSION",
    "Run",
    "RunCancelled",
    "RunNotFoundError",
    "RunRecord",
    "RunStatus",
    "Workspace",
    "bind_job",
    "default_root",
]

RunStatus = Literal["running", "done", "failed", "cancelled"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)

APPLICATION_ID = 0x41494743  # "AIGC": marks the file as ours, so a foreign SQLite file is refused
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# Schema history. Each entry moves the database from version i to i + 1; never edit a released step,
# append a new one. Version 1 was the first release; version 2 added process ownership and errors;
# version 3 added the job queue (`suite.jobs`) and the job that produced each run.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            capability TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
            started TEXT NOT NULL,
            finished TEXT,
            artifacts TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX runs_by_capability ON runs (capability, id)",
    ),
    (
        "ALTER TABLE runs ADD COLUMN error TEXT",
        "ALTER TABLE runs ADD COLUMN host TEXT",
        "ALTER TABLE runs ADD COLUMN pid INTEGER",
        "ALTER TABLE runs ADD COLUMN pid_start TEXT",
        "CREATE INDEX runs_by_status ON runs (status)",
        # Version 1 did not record owners, so a run it left 'running' can never be confirmed alive.
        """UPDATE runs SET status = 'failed', finished = started,
               error = 'interrupted: recorded by an older version that did not track its process'
           WHERE status = 'running'""",
    ),
    (
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            capability TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            step INTEGER NOT NULL DEFAULT 0,
            total INTEGER,
            message TEXT NOT NULL DEFAULT '',
            metrics TEXT NOT NULL DEFAULT '{}',
            history TEXT NOT NULL DEFAULT '[]',
            text TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            started TEXT,
            finished TEXT,
            stop_requested TEXT,
            error TEXT,
            host TEXT,
            pid INTEGER,
            pid_start TEXT,
            worker_pid INTEGER
        )""",
        "CREATE INDEX jobs_by_status ON jobs (status, id)",
        "CREATE INDEX jobs_by_capability ON jobs (capability, id)",
        "ALTER TABLE runs ADD COLUMN job_id INTEGER",
        "CREATE INDEX runs_by_job ON runs (job_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class RunNotFoundError(WorkspaceError):
    """No run with the requested id exists in this workspace."""


class RunCancelled(Exception):
    """Raise inside ``with workspace.start_run(...)`` to end the run as cancelled."""


_bound_job: int | None = None


def bind_job(job_id: int | None) -> None:
    """Mark the runs this process starts from now on as produced by a job (set in job workers)."""
    global _bound_job
    _bound_job = job_id


def default_root() -> Path:
    """The workspace folder: ``$AIGC_HOME`` if set, else ``./workspace``."""
    return Path(os.environ.get("AIGC_HOME") or "workspace").expanduser().resolve()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _to_jsonable(value: Any) -> Any:
    """Turn the values params and metrics commonly hold (numpy scalars, paths, dataclasses) into JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):  # small arrays
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _dumps(value: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(value), default=_to_jsonable, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"run params and metrics must be JSON-serialisable: {exc}") from exc


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (Linux), so a reused pid is not mistaken for the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces and ')'
    if fields[0] in {"Z", "X"}:  # zombie or dead: the process has exited
        return "exited"
    return fields[19]


def _process_alive(pid: int, pid_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    current = _process_start(pid)
    if current == "exited":
        return False
    return pid_start is None or current is None or current == pid_start


@dataclass(frozen=True)
class RunRecord:
    """One row of the run store, as read back."""

    id: int
    capability: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    status: RunStatus
    started: str
    finished: str | None
    artifacts: list[str]
    error: str | None
    host: str | None
    pid: int | None
    job_id: int | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; None while running."""
        if self.finished is None:
            return None
        start, end = datetime.fromisoformat(self.started), datetime.fromisoformat(self.finished)
        return (end - start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "duration_s": self.duration_s}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        return cls(
            id=row["id"],
            capability=row["capability"],
            params=json.loads(row["params"]),
            metrics=json.loads(row["metrics"]),
            status=row["status"],
            started=row["started"],
            finished=row["finished"],
            artifacts=json.loads(row["artifacts"]),
            error=row["error"],
            host=row["host"],
            pid=row["pid"],
            job_id=row["job_id"],
        )


class Workspace:
    """A folder holding the run database and the runs' artifacts.

    Args:
        root: The workspace folder; created if missing.

    Raises:
        WorkspaceError: The folder cannot be created, or ``runs.db`` is corrupt, foreign or newer than
            this version of the suite. The message names the file and what to do.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.db_path = self.root / "runs.db"
        self.runs_dir = self.root / "runs"
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(
                f"cannot create the workspace folder {self.root}: {exc.strerror}. "
                "Set AIGC_HOME to a writable folder."
            ) from exc
        self._check_header()
        self._migrate()

    @classmethod
    def from_env(cls) -> Workspace:
        """The workspace at ``$AIGC_HOME`` (default ``./workspace``)."""
        return cls(default_root())

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise self._db_error(exc) from exc
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its start, so read-modify-write is atomic."""
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
            raise self._db_error(exc) from exc
        finally:
            conn.close()

    def _db_error(self, exc: sqlite3.DatabaseError) -> WorkspaceError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return WorkspaceError(
                f"the run database {self.db_path} stayed locked by another process; try again"
            )
        return WorkspaceError(
            f"the run database {self.db_path} is damaged ({exc}). Move it aside to start a fresh "
            "workspace (artifacts under runs/ are kept), or set AIGC_HOME to another folder."
        )

    # -- opening and migrating -----------------------------------------------------------------

    def _check_header(self) -> None:
        """Refuse a file that is not SQLite before SQLite gets a chance to misreport it."""
        if not self.db_path.exists() or self.db_path.stat().st_size == 0:
            return
        with self.db_path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            raise WorkspaceError(
                f"{self.db_path} is not a workspace database (not an SQLite file). Move it aside or "
                "set AIGC_HOME to another folder."
            )

    def _migrate(self) -> None:
        conn = self._connect()
        try:
            self._enable_wal(conn)
            conn.execute("BEGIN IMMEDIATE")  # two processes opening a new workspace: one migrates
            try:
                version = self._check_ownership(conn)
                for step in MIGRATIONS[version:]:
                    for statement in step:
                        conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise self._db_error(exc) from exc
        finally:
            conn.close()

    @staticmethod
    def _enable_wal(conn: sqlite3.Connection) -> None:
        """Switch to WAL (outside any transaction, as SQLite requires). SQLite may answer "locked" at
        once, without its busy handler, while another process converts a new file: so retry here."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_ownership(self, conn: sqlite3.Connection) -> int:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables -= {"sqlite_sequence"}
        brand_new = app_id == 0 and version == 0 and not tables
        if app_id != APPLICATION_ID and not brand_new:
            raise WorkspaceError(
                f"{self.db_path} is an SQLite file from another program (tables: "
                f"{', '.join(sorted(tables)) or 'none'}). Move it aside or set AIGC_HOME to another folder."
            )
        if version > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.db_path} was written by a newer version of the suite (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}). Upgrade the suite or use another AIGC_HOME."
            )
        return version

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    # -- runs ----------------------------------------------------------------------------------

    def start_run(self, capability: str, params: Mapping[str, Any] | None = None) -> Run:
        """Record a new running run owned by this process and create its artifacts folder.

        Args:
            capability: Dotted name of what runs, e.g. ``"lab.train"``.
            params: The inputs that define the run; JSON-serialisable.

        Returns:
            A `Run` handle; use it as a context manager so that it always ends as done, failed or
            cancelled.
        """
        if not capability or not re.fullmatch(r"[a-z0-9_.-]+", capability):
            raise InputError(
                f"capability name {capability!r} must be lower-case letters, digits, '.', '_' or '-'"
            )
        pid = os.getpid()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (capability, params, status, started, host, pid, pid_start, job_id) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                (
                    capability,
                    _dumps(params or {}),
                    _now(),
                    socket.gethostname(),
                    pid,
                    _process_start(pid),
                    _bound_job,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
        run = Run(self, run_id)
        run.dir.mkdir(parents=True, exist_ok=True)
        return run

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id, with dead owners already reported as failed.

        Raises:
            RunNotFoundError: No such run.
        """
        self.reap_dead_runs()
        with self._read() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise RunNotFoundError(
                f"no run {run_id} in the workspace {self.root}; `aigc runs list` shows them"
            )
        return RunRecord.from_row(row)

    def list_runs(
        self, limit: int = 50, capability: str | None = None, status: RunStatus | None = None
    ) -> list[RunRecord]:
        """The most recent runs first, optionally of one capability or status."""
        if status is not None and status not in RUN_STATUSES:
            raise InputError(f"unknown run status {status!r}; use one of {list(RUN_STATUSES)}")
        self.reap_dead_runs()
        where, args = [], []
        if capability:
            where.append("capability = ?")
            args.append(capability)
        if status:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, int(limit))).fetchall()
        return [RunRecord.from_row(r) for r in rows]

    def count_runs(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def reap_dead_runs(self) -> int:
        """Mark as failed every run of this host still 'running' whose process has exited.

        Returns:
            How many runs were marked.
        """
        host = socket.gethostname()
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ?", (host,)
            ).fetchall()
        dead = [r["id"] for r in rows if r["pid"] is None or not _process_alive(r["pid"], r["pid_start"])]
        if not dead:
            return 0
        with self._write() as conn:
            conn.executemany(
                "UPDATE runs SET status = 'failed', finished = ?, "
                "error = 'the process running it ended before it finished' "
                "WHERE id = ? AND status = 'running'",
                [(_now(), run_id) for run_id in dead],
            )
        return len(dead)

    def run_dir(self, run_id: int) -> Path:
        """The artifacts folder of a run."""
        return self.runs_dir / str(int(run_id))

    def artifact_path(self, run_id: int, name: str) -> Path:
        """Absolute path of one recorded artifact of a run."""
        record = self.get_run(run_id)
        if name not in record.artifacts:
            raise InputError(f"run {run_id} has no artifact {name!r}; it has {record.artifacts}")
        return self.run_dir(run_id) / name


class Run:
    """Handle on one running run: log metrics, save artifacts atomically, then finish.

    Used as a context manager, a run ends as ``done`` on normal exit, ``cancelled`` on `RunCancelled`
    (which the block then swallows) or ``KeyboardInterrupt`` (which propagates), and ``failed`` (with
    the error message) on any other exception, which propagates.
    """

    def __init__(self, workspace: Workspace, run_id: int) -> None:
        self.workspace = workspace
        self.id = run_id
        self.dir = workspace.run_dir(run_id)

    def __repr__(self) -> str:
        return f"Run(id={self.id}, dir={str(self.dir)!r})"

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc_type is None:
            self.finish("done")
        elif issubclass(exc_type, RunCancelled | KeyboardInterrupt):
            self.finish("cancelled", error=str(exc) or "stopped by the user")
        else:
            self.finish("failed", error=f"{exc_type.__name__}: {exc}")
        return exc_type is RunCancelled  # a requested stop is an outcome, not an error to re-raise

    @property
    def record(self) -> RunRecord:
        return self.workspace.get_run(self.id)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merge more inputs into the run's params (e.g. defaults resolved after start)."""
        self._merge("params", params)

    def log_metrics(self, metrics: Mapping[str, Any]) -> None:
        """Merge metrics into the run's metrics; later values for a key replace earlier ones."""
        self._merge("metrics", metrics)

    def _merge(self, column: Literal["params", "metrics"], values: Mapping[str, Any]) -> None:
        encoded = _dumps(values)  # validate before taking the lock
        with self.workspace._write() as conn:
            row = conn.execute(f"SELECT {column} FROM runs WHERE id = ?", (self.id,)).fetchone()
            merged = {**json.loads(row[0]), **json.loads(encoded)}
            conn.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (_dumps(merged), self.id))

    def save_bytes(self, name: str, data: bytes) -> Path:
        """Write an artifact atomically (temp file, then rename) and record it.

        Args:
            name: File name inside the run folder: letters, digits, '.', '_', '-'.
            data: The content.

        Returns:
            The artifact's path.
        """
        path = self._artifact_target(name)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._record_artifact(name)
        return path

    def save_text(self, name: str, text: str) -> Path:
        return self.save_bytes(name, text.encode("utf-8"))

    def save_json(self, name: str, value: Any) -> Path:
        return self.save_bytes(name, json.dumps(value, default=_to_jsonable, indent=2).encode("utf-8"))

    def add_artifact(self, name: str) -> Path:
        """Record a file or folder that a domain call already wrote, complete, into the run folder."""
        path = self._artifact_target(name)
        if not path.exists():
            raise InputError(f"artifact {name!r} was not written to {self.dir}")
        self._record_artifact(name)
        return path

    def _artifact_target(self, name: str) -> Path:
        if not _ARTIFACT_NAME.match(name) or ".." in name:
            raise InputError(
                f"artifact name {name!r} must be a plain file name (letters, digits, '.', '_', '-')"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / name

    def _record_artifact(self, name: str) -> None:
        with self.workspace._write() as conn:
            row = conn.execute("SELECT artifacts FROM runs WHERE id = ?", (self.id,)).fetchone()
            names = json.loads(row[0])
            if name not in names:
                names.append(name)
            conn.execute("UPDATE runs SET artifacts = ? WHERE id = ?", (json.dumps(names), self.id))

    def finish(self, status: RunStatus = "done", error: str | None = None) -> None:
        """End the run. Only a running run changes; finishing twice keeps the first outcome."""
        if status not in RUN_STATUSES or status == "running":
            raise InputError(f"a run finishes as done, failed or cancelled, not {status!r}")
        with self.workspace._write() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ? WHERE id = ? AND status = 'running'",
                (status, _now(), error, self.id),
            )
