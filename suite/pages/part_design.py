"""Part Design: search a part family for the lightest (stiffest, cheapest) design that holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import streamlit as st

from shared_models.exceptions import InputError
from suite.components.feedback import user_errors
from suite.components.part_design_views import render_job, render_result, render_settings
from suite.components.topology_handoff import render_topology_check
from suite.jobs import BackgroundJob
from suite.resources import get_workspace
from suite.runners.part_design import default_storage_url, list_part_runs, open_study, optimize_and_record

PAGE_ID = "part-design"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Part Design")
st.caption(
    "Describe a part family, its load and its limits; the suite builds each candidate, checks it with "
    "finite elements and lets Optuna search for the best designs. Every study is a run in your workspace."
)

with user_errors():
    workspace = get_workspace()

settings, outcome = st.columns([1, 2], gap="large")
with settings:
    spec, n_trials, study_name, storage = render_settings(PAGE_ID)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    if st.button(
        "Optimise", type="primary", key=f"{PAGE_ID}.optimise", disabled=busy or spec is None, width="stretch"
    ):
        with user_errors():
            name = study_name or f"{spec.family}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            url = storage or default_storage_url(workspace)
            if not name.isprintable() or len(name) > 120:
                raise InputError("a study name is 1 to 120 printable characters")
            state["job"] = BackgroundJob(
                lambda on_progress, stop: optimize_and_record(
                    workspace, spec, n_trials, name, url, on_progress, stop
                ),
                name=f"{PAGE_ID}-optimise",
            ).start()
            state.pop("opened", None)
            st.rerun()

    st.divider()
    earlier = list_part_runs(workspace)
    if earlier:
        choice = st.selectbox(
            "Earlier studies",
            earlier,
            format_func=lambda r: (
                f"run {r.id} · {r.params.get('study')} · {r.metrics.get('trials', 0)} trials · {r.status}"
            ),
            key=f"{PAGE_ID}.earlier",
        )
        if st.button("Open", key=f"{PAGE_ID}.open", disabled=busy):
            state["opened"] = (choice.id, choice.params["storage"], choice.params["study"])
            state.pop("job", None)
            st.rerun()

with outcome:
    render_topology_check(PAGE_ID, workspace)  # a design sent from Topology, when there is one
    job = state.get("job")
    if job is not None and job.running:
        render_job(PAGE_ID, job)
        time.sleep(POLL_SECONDS)
        st.rerun()
    shown = None
    if job is not None:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            st.error(f"The study failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            shown = (job.result.run_id, job.result.storage_url, job.result.result.study_name)
            if job.result.stopped:
                st.warning("Stopped early: the finished trials are kept and shown.", icon=":material/pause:")
    shown = shown or state.get("opened")
    if shown is None:
        st.info(
            "Pick a family, material, load and limits, then press **Optimise**. The defaults search the "
            "family's usual parameters; 30 trials take a minute or two."
        )
        st.stop()
    run_id, url, name = shown
    with user_errors():
        result = open_study(url, name)
    render_result(PAGE_ID, result, url, run_id)
