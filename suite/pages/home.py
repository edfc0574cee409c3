"""Home: what the suite is, a card per capability, the jobs running now and the recent runs."""

from __future__ import annotations

import streamlit as st

from suite.capabilities import CAPABILITIES, SECTIONS, by_id
from suite.components.feedback import user_errors
from suite.components.live_job import job_status_text
from suite.components.navigation import page_of
from suite.components.runs import render_run_detail, render_runs_table
from suite.resources import get_jobs, get_workspace

PAGE_ID = "home"
RECENT_RUNS = 25
MAX_JOBS_SHOWN = 20
JOBS_REFRESH_S = 2.0

AUDIENCES = (
    (
        ":material/insights:",
        "Business analysts",
        "See what generative AI does for your industry, on real data.",
    ),
    (
        ":material/precision_manufacturing:",
        "Manufacturing engineers",
        "Generate and optimise real parts, checked by physics.",
    ),
    (":material/rocket_launch:", "Product teams", "Prototype and pitch with working generative models."),
)

st.title("AIGC Industry Suite")
st.markdown(
    "Generative AI put to work on industry tasks, on one shared model core that runs on your own "
    "machine: no cloud account, no downloads. Every run is recorded in your workspace with its "
    "parameters, metrics and files."
)

for column, (icon, who, what) in zip(st.columns(len(AUDIENCES)), AUDIENCES, strict=True):
    with column.container(border=True):
        st.markdown(f"{icon} **{who}**")
        st.caption(what)

st.subheader("Capabilities")
if not CAPABILITIES:
    st.info("No capability is installed in this build yet; each one appears here as it ships.")
for section in SECTIONS:
    entries = [c for c in CAPABILITIES if c.section == section]
    if not entries:
        continue
    st.markdown(f"**{section}**")
    for column, capability in zip(st.columns(3), entries, strict=False):
        with column.container(border=True):
            st.page_link(page_of(capability), label=capability.title, icon=capability.icon)
            st.caption(capability.summary)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()


@st.fragment(run_every=JOBS_REFRESH_S)
def render_jobs() -> None:
    """Queued and running jobs of every session and user of this workspace, each with Open and Stop."""
    active = jobs.store.list(statuses=("queued", "running"), limit=MAX_JOBS_SHOWN)
    if not active:
        st.caption("No job is running. Long work started on any page shows here, from any tab.")
        return
    for record in active:
        view = jobs.view(record.id)
        capability = by_id(record.capability)
        with st.container(border=True):
            text, open_link, stop = st.columns([6, 2, 1], vertical_alignment="center")
            name = capability.title if capability else record.capability
            fraction = view.progress.fraction if view.progress and view.progress.fraction is not None else 0.0
            text.progress(fraction, text=f"**{name}** · {record.title} · {job_status_text(view)}")
            if capability is not None:
                open_link.page_link(
                    page_of(capability),
                    label="Open",
                    icon=":material/open_in_new:",
                    query_params={"job": str(record.id)},
                )
            if stop.button("Stop", key=f"{PAGE_ID}.stop.{record.id}", disabled=view.stop_requested):
                jobs.request_stop(record.id)
                st.toast(f"Stopping {name}: it ends within a few seconds and keeps what it has.")


st.subheader("Jobs")
render_jobs()

st.subheader("Recent runs")
with user_errors():
    records = workspace.list_runs(limit=RECENT_RUNS)
    total = workspace.count_runs()
if records:
    st.caption(
        f"{total} run{'s' if total != 1 else ''} in `{workspace.root}`; newest first. "
        "Pick a row to open the run."
    )
picked = render_runs_table(records, key=f"{PAGE_ID}.runs", selectable=True)
if picked is not None:
    with st.container(border=True):
        render_run_detail(workspace, workspace.get_run(picked.id), jobs, key=PAGE_ID)
