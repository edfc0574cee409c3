from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from shared_models.exceptions import InputError, WorkspaceError
from suite.workspace import MIGRATIONS, SCHEMA_VERSION, RunCancelled, RunNotFoundError, Workspace


def test_run_lifecycle_records_params_metrics_and_artifacts(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with ws.start_run("lab.train", {"model": "cvae", "lr": 1e-3}) as run:
        run.log_metrics({"loss": 0.5})
        run.log_metrics({"loss": 0.25, "accuracy": 0.9})
        path = run.save_bytes("grid.png", b"\x89PNG fake")
        run.save_json("card.json", {"a": 1})
        assert ws.get_run(run.id).status == "running"
    record = ws.get_run(run.id)
    assert record.status == "done"
    assert record.params == {"model": "cvae", "lr": 1e-3}
    assert record.metrics == {"loss": 0.25, "accuracy": 0.9}
    assert record.artifacts == ["grid.png", "card.json"]
    assert path.read_bytes() == b"\x89PNG fake"
    assert json.loads(ws.artifact_path(run.id, "card.json").read_text()) == {"a": 1}
    assert record.duration_s is not None and record.duration_s >= 0
    assert not [p for p in run.dir.iterdir() if p.name.endswith(".tmp")]


def test_failed_and_cancelled_runs_keep_their_outcome(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with pytest.raises(ZeroDivisionError), ws.start_run("demo") as failing:
        1 / 0  # noqa: B018
    with ws.start_run("demo") as stopped:
        raise RunCancelled("user pressed Stop")
    failed, cancelled = ws.get_run(failing.id), ws.get_run(stopped.id)
    assert failed.status == "failed" and "ZeroDivisionError" in (failed.error or "")
    assert cancelled.status == "cancelled" and cancelled.error == "user pressed Stop"
    stopped.finish("done")  # a finished run keeps its first outcome
    assert ws.get_run(stopped.id).status == "cancelled"


def test_list_filters_and_orders_newest_first(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ids = []
    for capability in ("a", "b", "a"):
        with ws.start_run(capability) as run:
            ids.append(run.id)
    assert [r.id for r in ws.list_runs()] == ids[::-1]
    assert [r.id for r in ws.list_runs(capability="a")] == [ids[2], ids[0]]
    assert ws.list_runs(status="failed") == []
    assert len(ws.list_runs(limit=1)) == 1
    with pytest.raises(InputError, match="unknown run status"):
        ws.list_runs(status="exploded")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.png", "", ".hidden", "x" * 200])
def test_artifact_names_cannot_escape_the_run_folder(tmp_path: Path, name: str) -> None:
    ws = Workspace(tmp_path)
    with ws.start_run("demo") as run, pytest.raises(InputError, match="plain file name"):
        run.save_bytes(name, b"x")
    assert ws.get_run(run.id).artifacts == []
    assert not (tmp_path / "escape.txt").exists()


def test_unknown_run_and_bad_values_get_clear_errors(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with pytest.raises(RunNotFoundError, match="no run 999"):
        ws.get_run(999)
    with pytest.raises(InputError, match="JSON-serialisable"):
        ws.start_run("demo", {"model": object()})
    with pytest.raises(InputError, match="capability name"):
        ws.start_run("Bad Name!")
    assert ws.count_runs() == 0


def _write_runs(root: str, worker: int, count: int) -> None:
    ws = Workspace(root)
    for i in range(count):
        with ws.start_run("concurrency", {"worker": worker, "i": i}) as run:
            run.log_metrics({f"w{worker}": i})
            run.log_metrics({"step": i})
            run.save_text(f"out-{i}.txt", f"{worker}:{i}")


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    count = 40
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_runs, args=(str(tmp_path), w, count)) for w in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
    records = Workspace(tmp_path).list_runs(limit=1000)
    assert len(records) == 2 * count
    assert all(r.status == "done" for r in records)
    for r in records:
        worker, i = r.params["worker"], r.params["i"]
        assert r.metrics == {f"w{worker}": i, "step": i}  # both merges of each run survived
        assert r.artifacts == [f"out-{i}.txt"]
    assert sorted((r.params["worker"], r.params["i"]) for r in records) == [
        (w, i) for w in range(2) for i in range(count)
    ]


def test_run_of_a_dead_process_is_reported_failed(tmp_path: Path) -> None:
    script = (
        "import os, sys; from suite.workspace import Workspace; "
        "run = Workspace(sys.argv[1]).start_run('crashy'); print(run.id, flush=True); os._exit(1)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    run_id = int(done.stdout.strip())
    record = Workspace(tmp_path).get_run(run_id)
    assert record.status == "failed"
    assert "ended before it finished" in (record.error or "")


def test_run_of_a_live_process_stays_running(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    run = ws.start_run("long")
    assert ws.reap_dead_runs() == 0
    assert ws.get_run(run.id).status == "running"
    run.finish()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from Linux /proc")
def test_reused_pid_is_not_taken_for_the_owner(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    run = ws.start_run("long")
    with sqlite3.connect(ws.db_path) as conn:  # same pid, but a different process start time
        conn.execute("UPDATE runs SET pid_start = '1' WHERE id = ?", (run.id,))
    assert ws.get_run(run.id).status == "failed"


def test_corrupt_database_gets_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "runs.db").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="not a workspace database") as info:
        Workspace(tmp_path)
    assert str(tmp_path / "runs.db") in str(info.value)


def test_damaged_pages_get_an_error_naming_the_file(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    for _ in range(30):
        ws.start_run("demo", {"pad": "x" * 2000}).finish()
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(ws.db_path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # keep the header page, destroy the rest
    ws.db_path.write_bytes(bytes(data))
    with pytest.raises(WorkspaceError) as info:
        Workspace(tmp_path).list_runs()
    assert str(ws.db_path) in str(info.value)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    with pytest.raises(WorkspaceError, match="another program") as info:
        Workspace(tmp_path)
    assert "invoices" in str(info.value)
    with sqlite3.connect(tmp_path / "runs.db") as conn:  # and it was left untouched
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(WorkspaceError, match="newer version"):
        Workspace(tmp_path)


def test_migration_from_schema_1_keeps_runs(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with sqlite3.connect(db) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA application_id = 1095321411")
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO runs (capability, params, metrics, status, started, finished, artifacts) VALUES "
            "('lab.train', '{\"model\": \"vae\"}', '{\"elbo\": -90.5}', 'done', "
            "'2026-01-01T00:00:00.000+00:00', '2026-01-01T00:01:00.000+00:00', '[\"grid.png\"]'), "
            "('lab.train', '{}', '{}', 'running', '2026-01-02T00:00:00.000+00:00', NULL, '[]')"
        )
    ws = Workspace(tmp_path)
    assert ws.schema_version == SCHEMA_VERSION
    old_done, old_running = ws.get_run(1), ws.get_run(2)
    assert old_done.status == "done" and old_done.metrics == {"elbo": -90.5}
    assert old_done.artifacts == ["grid.png"] and old_done.duration_s == 60.0
    assert old_running.status == "failed" and "older version" in (old_running.error or "")
    with ws.start_run("lab.train") as run:  # and the migrated schema takes new runs
        run.log_metrics({"ok": 1})
    assert ws.get_run(run.id).host is not None


def test_unwritable_root_gets_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="cannot create the workspace folder"):
        Workspace(blocker / "sub")


def test_default_root_follows_aigc_home(aigc_home: Path) -> None:
    assert Workspace.from_env().root == aigc_home.resolve()
