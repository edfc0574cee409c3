"""The job service: worker processes, state in the workspace, stop that always ends a job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from suite.jobs import JobHandle, JobService, JobStore
from suite.workspace import Workspace
from tests.suite import job_targets as targets


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    svc = JobService(Workspace(tmp_path / "ws"), max_jobs=1, grace_s=1.0)
    yield svc
    svc.shutdown()


def wait_until_ended(job: JobHandle, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while job.running:
        assert time.monotonic() < deadline, f"job {job.id} still {job.snapshot().status}"
        time.sleep(0.05)


def wait_for_step(job: JobHandle, step: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (job.snapshot().progress is None) or job.snapshot().progress.step < step:
        assert time.monotonic() < deadline and job.running
        time.sleep(0.05)


def test_a_job_reports_progress_history_and_its_result(service: JobService) -> None:
    job = service.submit("tests", "count", targets.count, 12, 0.02, title="count to 12")
    wait_until_ended(job)
    view = job.snapshot()
    assert view.status == "done" and job.result == 12 and view.kind == "count"
    assert [p["step"] for p in view.history] == list(range(1, 13))
    record = service.store.get(job.id)
    assert record.status == "done" and record.step == 12 and record.title == "count to 12"
    assert record.history[-1]["loss"] == pytest.approx(1 / 12)


def test_stop_keeps_the_partial_result_and_cancels_the_run(service: JobService) -> None:
    root = str(service.workspace.root)
    job = service.submit("tests", "count", targets.recorded_count, root, 100_000, 0.02)
    wait_for_step(job, 3)
    job.request_stop()
    wait_until_ended(job, timeout=10)
    assert job.snapshot().status == "cancelled"
    assert 3 <= job.result < 100_000
    run = service.workspace.get_run(service.store.get(job.id).run_id)
    assert run.status == "cancelled" and run.metrics["count"] == job.result and run.job_id == job.id


def test_a_job_that_ignores_stop_is_terminated_and_its_run_ends_cancelled(service: JobService) -> None:
    job = service.submit("tests", "stubborn", targets.stubborn, str(service.workspace.root))
    deadline = time.monotonic() + 60
    while not service.store.get(job.id).run_ids:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = time.monotonic()
    job.request_stop()
    wait_until_ended(job, timeout=10)
    assert time.monotonic() - asked < 5  # grace 1 s, then SIGTERM
    assert job.snapshot().status == "cancelled"
    run = service.workspace.get_run(service.store.get(job.id).run_id)
    assert run.status == "cancelled"


def test_failures_carry_their_message(service: JobService) -> None:
    user_error = service.submit("tests", "fails", targets.fails)
    bug = service.submit("tests", "crashes", targets.crashes)
    wait_until_ended(user_error)
    wait_until_ended(bug)
    assert user_error.snapshot().error == "the dataset has 3 images"
    assert bug.snapshot().status == "failed" and "KeyError" in bug.snapshot().error


def test_the_cap_queues_jobs_and_a_queued_job_can_be_stopped(service: JobService) -> None:
    first = service.submit("tests", "count", targets.count, 100_000, 0.02)
    second = service.submit("tests", "count", targets.count, 3, 0.0)
    third = service.submit("tests", "count", targets.count, 3, 0.0)
    wait_for_step(first, 1)
    assert second.snapshot().status == "queued" and second.snapshot().queue == (1, 2)
    assert third.snapshot().queue == (2, 2)
    second.request_stop()
    first.request_stop()
    wait_until_ended(second, timeout=10)
    wait_until_ended(third)
    assert second.snapshot().status == "cancelled" and second.snapshot().error == "stopped before it started"
    assert third.snapshot().status == "done" and third.result == 3


def test_another_process_sees_and_stops_a_job(service: JobService, tmp_path: Path) -> None:
    job = service.submit("tests", "count", targets.count, 100_000, 0.02)
    wait_for_step(job, 2)
    other = JobStore(Workspace(tmp_path / "ws"))  # as another app process would read it
    time.sleep(0.6)  # progress reaches the table at most every 0.5 s
    seen = other.get(job.id)
    assert seen.status == "running" and seen.step >= 1
    assert other.list(statuses=["running"])[0].id == job.id
    assert other.request_stop(job.id)
    wait_until_ended(job, timeout=10)
    assert other.get(job.id).status == "cancelled"
    assert not other.request_stop(job.id)  # already ended


def test_jobs_of_a_dead_app_process_are_reported_failed(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    store = JobStore(workspace)
    job_id = store.create("tests", "count", "orphan")
    with workspace._write() as conn:  # as if the app that owned it had exited
        conn.execute("UPDATE jobs SET pid = 999999999, pid_start = 'gone' WHERE id = ?", (job_id,))
    assert store.reap_orphans() == 1
    assert store.get(job_id).status == "failed"


def test_results_and_previews_holding_tensors_reach_the_app(service: JobService) -> None:
    job = service.submit("tests", "tensor", targets.tensor_result)
    wait_until_ended(job)
    assert job.snapshot().status == "done", job.snapshot().error
    assert job.result["weights"].tolist() == [0.0, 1.0, 2.0] and job.result["note"] == "ok"
