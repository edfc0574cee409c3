"""Topology -> Part Design: the button that sends a design and the Part Design panel that checks it.

The hand-off carries only the topology run's id (in Part Design's session state); the panel reads the
design back from that run's files, so it checks exactly what was saved.
"""

from __future__ import annotations

import json

import streamlit as st

from domains.manufacturing.materials import MATERIALS
from suite.capabilities import CAPABILITIES
from suite.capabilities.part_design.runner import TopologyCheck, check_job
from suite.capabilities.part_design.views import material_input
from suite.components.feedback import user_errors
from suite.components.live_job import job_outcome_message, job_panel, remember_job
from suite.components.navigation import page_of
from suite.jobs import JobHandle, JobService
from suite.workspace import Workspace

__all__ = ["PART_DESIGN_PAGE_ID", "render_send_button", "render_topology_check"]

PART_DESIGN_PAGE_ID = "part-design"
SENT_KEY = "from_topology"
CHECK_KEY = "topology_check"


def render_send_button(page_id: str, topology_run_id: int) -> None:
    """ "Send to Part Design": open Part Design with this run's design ready to check."""
    if st.button(
        "Send to Part Design",
        icon=":material/send:",
        key=f"{page_id}.send",
        help="Check stress and deflection of this design with the Part Design FE core, in any material",
    ):
        target = st.session_state.setdefault(PART_DESIGN_PAGE_ID, {})
        target[SENT_KEY] = int(topology_run_id)
        target.pop(CHECK_KEY, None)
        page = next(c for c in CAPABILITIES if c.id == PART_DESIGN_PAGE_ID)
        st.switch_page(page_of(page))


def render_topology_check(
    page_id: str, workspace: Workspace, jobs: JobService, job: JobHandle | None, busy: bool
) -> bool:
    """The panel of a design sent from Topology; False (nothing drawn) when none was sent.

    The check runs as the page's job (one at a time with the page's studies): ``job`` is the page's
    current check job, if it has one, and ``busy`` says whether any job of the page is running.
    """
    state: dict = st.session_state.setdefault(page_id, {})
    run_id = state.get(SENT_KEY)
    if run_id is None and job is not None:  # a reload (or Close) forgot which design: the job knows
        if isinstance(job.result, TopologyCheck):
            run_id = state[SENT_KEY] = job.result.topology_run_id
        else:
            view = job.snapshot()
            st.subheader("Check of a design from Topology")
            if view.active:
                job_panel(page_id, job)
            else:
                job_outcome_message(view, "The check")
            return True
    if run_id is None:
        return False
    with st.container(key=f"{page_id}-topology-check"):  # a CSS class (st-key-…) tests can scope to
        _render_panel(page_id, workspace, state, run_id, jobs, job, busy)
    return True


def _render_panel(
    page_id: str,
    workspace: Workspace,
    state: dict,
    run_id: int,
    jobs: JobService,
    job: JobHandle | None,
    busy: bool,
) -> None:
    with user_errors():
        record = workspace.get_run(run_id)
    part = record.params.get("part", {})
    problem = record.params.get("problem", {})
    head, close = st.columns([5, 1])
    head.subheader(f"Design from Topology run {run_id}")
    if close.button("Close", key=f"{page_id}.topo.close", icon=":material/close:"):
        state.pop(SENT_KEY, None)
        state.pop(CHECK_KEY, None)
        st.rerun()
    picture, form = st.columns([1, 1], gap="medium")
    density = workspace.run_dir(run_id) / "density.png"
    if density.exists():
        picture.image(str(density), caption=_describe(problem, record.metrics), width="stretch")
    with form:
        material = material_input(f"{page_id}.topo", default=part.get("material"))
        c1, c2 = st.columns(2)
        load = c1.number_input(
            "Load per load case (N)", 0.0, 1e7, float(part.get("load_n", 1000.0)), key=f"{page_id}.topo.load"
        )
        element = c2.number_input(
            "Element size (mm)",
            0.0,
            1000.0,
            float(part.get("element_size_mm", 1.0)),
            key=f"{page_id}.topo.el",
        )
        thickness = float(part.get("thickness_mm", 10.0))
        if int(problem.get("nelz", 0)) == 0:
            thickness = c1.number_input(
                "Plate thickness (mm)", 0.0, 1000.0, thickness, key=f"{page_id}.topo.t"
            )
        if st.button(
            "Check stress and deflection", type="primary", key=f"{page_id}.topo.check", disabled=busy
        ):
            title = f"check of topology run {run_id}"
            job = jobs.submit(
                page_id,
                "check",
                check_job,
                workspace,
                run_id,
                material,
                load,
                element,
                thickness,
                title=title,
            )
            remember_job(page_id, job)
            state.pop(CHECK_KEY, None)
            st.rerun()
    if job is not None:
        view = job.snapshot()
        if view.active:
            job_panel(page_id, job)
        else:
            job_outcome_message(view, "The check")
            if isinstance(job.result, TopologyCheck):
                state[CHECK_KEY] = job.result
    outcome: TopologyCheck | None = state.get(CHECK_KEY)
    if outcome is not None and outcome.topology_run_id == run_id:
        _render_check(page_id, outcome, workspace)
    st.divider()


def _describe(problem: dict, metrics: dict) -> str:
    grid = " x ".join(str(problem.get(k)) for k in ("nelx", "nely", "nelz") if problem.get(k))
    compliance = metrics.get("compliance")
    return f"{problem.get('name', '?')} {grid} elements" + (
        f", compliance {compliance:.4g}" if isinstance(compliance, int | float) else ""
    )


def _render_check(page_id: str, outcome: TopologyCheck, workspace: Workspace) -> None:
    c = outcome.check
    cols = st.columns(5)
    cols[0].metric("Max von Mises", f"{c.max_von_mises_mpa:.3g} MPa")
    cols[1].metric("Max deflection", f"{c.max_displacement_mm:.3g} mm")
    cols[2].metric("Safety factor", f"{c.safety_factor:.3g}")
    cols[3].metric("Mass", f"{c.mass_kg:.3g} kg")
    cols[4].metric("Voxels", f"{c.elements:,}")
    label = MATERIALS[c.material].label if c.material in MATERIALS else "your material"
    verdict = "holds" if c.safety_factor >= 1 else "yields"
    notes = [f"{label}, {c.load_n:g} N per load case (worst case shown), thresholded at density 0.5"]
    if c.dropped:
        notes.append(f"{c.dropped} loose voxels dropped")
    if c.pads:
        notes.append(f"{c.pads} voxels added under the loads")
    st.caption("; ".join(notes) + f". Run {outcome.run_id}: the design {verdict} at this load.")
    data = json.loads((workspace.run_dir(outcome.run_id) / "check.json").read_text())
    st.download_button(
        "Check (JSON)",
        json.dumps(data, indent=2),
        file_name=f"part-check-run{outcome.run_id}.json",
        mime="application/json",
        key=f"{page_id}.topo.dl",
        on_click="ignore",
    )
