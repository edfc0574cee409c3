"""The live-job panel every page uses: queue place, progress, Stop; only the panel reruns.

A page keeps the id of its current job in its state. `current_job` finds it again after a reload or
in another tab (the newest queued or running job of the capability, or ``?job=N`` from Home), and
`job_panel` draws it inside an ``st.fragment`` that refreshes itself every second, so the rest of the
page is not re-run while the job works. When the job ends, the panel asks for one full rerun so the
page can draw the result.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from suite.jobs import JobHandle, JobNotFoundError, JobService, JobView

__all__ = [
    "current_job",
    "forget_job",
    "job_outcome_message",
    "job_panel",
    "job_status_text",
    "remember_job",
]

REFRESH_S = 0.7


def _state(page_id: str) -> dict:
    return st.session_state.setdefault(page_id, {})


def remember_job(page_id: str, job: JobHandle) -> None:
    """Make ``job`` the page's current job (after submitting it)."""
    _state(page_id)["job_id"] = job.id


def forget_job(page_id: str) -> None:
    """The page shows no job any more (e.g. the user opened an earlier run)."""
    _state(page_id).pop("job_id", None)


def current_job(page_id: str, service: JobService) -> JobHandle | None:
    """The page's job: the one it started, one opened from Home, or one still running elsewhere."""
    state = _state(page_id)
    asked = st.query_params.get("job")
    if asked and asked.isdigit():
        try:
            job = service.handle(int(asked))
        except JobNotFoundError:
            job = None
        if job is not None and job.snapshot().capability == page_id:
            state["job_id"] = job.id
        del st.query_params["job"]
    if "job_id" in state:
        return JobHandle(service, state["job_id"])
    running = service.latest(page_id, active_only=True)
    if running is not None:
        state["job_id"] = running.id
    return running


def job_status_text(view: JobView) -> str:
    """One line: what the job is doing, how far, how long."""
    if view.status == "queued":
        place, length = view.queue or (1, 1)
        return f"Waiting for a free worker: place {place} of {length} in the queue"
    progress = view.progress
    label = progress.message if progress and progress.message else "starting"
    if progress and progress.total:
        label += f" · {progress.step} of {progress.total}"
    if view.stop_requested and view.active:
        label = "Stopping… " + label
    return f"{label} · {view.elapsed_s:.0f} s"


def job_panel(page_id: str, job: JobHandle, details: Callable[[JobView], None] | None = None) -> None:
    """Draw a queued or running job and its Stop button, refreshed every second on its own.

    Args:
        page_id: The page's id, for widget keys.
        job: The job to show; call this only while it is queued or running.
        details: Draws what is special to the page (curves, previews) from a snapshot.
    """

    @st.fragment(run_every=REFRESH_S)
    def panel() -> None:
        view = job.snapshot()
        if not view.active:
            st.rerun()  # the whole page, once, to draw the result
        fraction = view.progress.fraction if view.progress and view.progress.fraction is not None else 0.0
        st.progress(fraction, text=job_status_text(view))
        label = "Cancel" if view.status == "queued" else "Stop"
        if st.button(label, key=f"{page_id}.stop", icon=":material/stop:", disabled=view.stop_requested):
            job.request_stop()
            st.toast("Stopping: the work ends within a few seconds and keeps what it has.")
        if details is not None and view.status == "running":
            details(view)

    panel()


def job_outcome_message(view: JobView, what: str) -> None:
    """The standard note under a finished job: failed (with why) or stopped early."""
    if view.status == "failed":
        st.error(f"{what} failed: {view.error}", icon=":material/error:")
    elif view.status == "cancelled":
        st.warning(f"{what} was stopped: {view.error or 'stopped by the user'}.", icon=":material/pause:")
