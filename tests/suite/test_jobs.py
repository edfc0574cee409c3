from __future__ import annotations

import threading

from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from suite.jobs import BackgroundJob


def _counting(limit: int) -> tuple[threading.Event, object]:
    release = threading.Event()

    def work(on_progress: ProgressCallback, stop: threading.Event) -> int:
        step = 0
        while step < limit:
            step += 1
            if on_progress(Progress(step=step, total=limit, metrics={"loss": 1 / step})) is False:
                break
            if step == 3:
                release.wait(10)  # hold here until the test has looked at the running job
        return step

    return release, work


def test_job_reports_progress_then_its_result() -> None:
    release, work = _counting(5)
    job = BackgroundJob(work, name="count").start()
    while job.snapshot().progress is None or job.snapshot().progress.step < 3:
        threading.Event().wait(0.01)
    snapshot = job.snapshot()
    assert job.running and snapshot.status == "running" and snapshot.progress.fraction == 0.6
    release.set()
    assert job.wait(10)
    final = job.snapshot()
    assert final.status == "done" and job.result == 5
    assert [h["step"] for h in final.history] == [1, 2, 3, 4, 5]


def test_stop_request_ends_work_with_a_partial_result() -> None:
    release, work = _counting(1000)
    job = BackgroundJob(work).start()
    while job.snapshot().progress is None or job.snapshot().progress.step < 3:
        threading.Event().wait(0.01)
    job.request_stop()
    release.set()
    assert job.wait(10)
    assert job.snapshot().status == "cancelled" and job.result == 4  # the step in flight completes


def test_errors_become_a_failed_status_with_the_message() -> None:
    def user_error(on_progress: ProgressCallback, stop: threading.Event) -> None:
        raise InputError("the dataset has 3 images")

    def bug(on_progress: ProgressCallback, stop: threading.Event) -> None:
        raise KeyError("oops")

    first, second = BackgroundJob(user_error).start(), BackgroundJob(bug).start()
    assert first.wait(10) and second.wait(10)
    assert first.snapshot().status == "failed" and first.snapshot().error == "the dataset has 3 images"
    assert second.snapshot().status == "failed" and "KeyError" in (second.snapshot().error or "")
