"""Home: what the suite is, a card per working capability, and the workspace's recent runs."""

from __future__ import annotations

import streamlit as st

from suite.capabilities import CAPABILITIES, SECTIONS
from suite.components.feedback import user_errors
from suite.components.runs import render_runs_table
from suite.resources import get_workspace

PAGE_ID = "home"
RECENT_RUNS = 25

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
            st.page_link(str(capability.page_path), label=capability.title, icon=capability.icon)
            st.caption(capability.summary)

st.subheader("Recent runs")
with user_errors():
    workspace = get_workspace()
    records = workspace.list_runs(limit=RECENT_RUNS)
    total = workspace.count_runs()
if records:
    st.caption(f"{total} run{'s' if total != 1 else ''} in `{workspace.root}`; newest first.")
render_runs_table(records, key=f"{PAGE_ID}.runs")
