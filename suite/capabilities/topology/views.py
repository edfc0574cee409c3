"""Widgets and views of the Topology page: problem settings, the live run, the finished part."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import trimesh

from domains.manufacturing.materials import MATERIALS
from domains.manufacturing.topology import TopologySettings
from domains.manufacturing.topology_problems import (
    PROBLEMS,
    ROW_KINDS,
    Problem,
    builtin_problem,
    problem_from_rows,
)
from domains.manufacturing.topology_study import TopologyStudyResult, TopologyStudySpec
from suite.capabilities.part_design.topology_handoff import render_send_button
from suite.capabilities.topology.runner import PartSettings, TopologyOutcome, density_png
from suite.components.charts import style_training_curves
from suite.jobs import JobView
from suite.workspace import Workspace

__all__ = [
    "render_job_details",
    "render_outcome",
    "render_settings",
    "render_study",
    "render_study_details",
    "render_study_settings",
]

PROBLEM_LABELS = {
    "mbb": "MBB half-beam (the paper's benchmark)",
    "cantilever": "Cantilever",
    "lbracket": "L-bracket (keep-out corner)",
    "bridge": "Bridge (distributed load on a deck)",
    "custom": "Custom: your loads, supports and keep-outs",
}
DEFAULT_ROWS = pd.DataFrame(
    [
        {"kind": "fixed", "x0": 0.0, "y0": 0.0, "x1": 0.0, "y1": 1.0, "fx": 0.0, "fy": 0.0, "case": 0},
        {"kind": "load", "x0": 1.0, "y0": 0.0, "x1": 1.0, "y1": 0.0, "fx": 0.0, "fy": -1.0, "case": 0},
        {"kind": "load", "x0": 1.0, "y0": 1.0, "x1": 1.0, "y1": 1.0, "fx": 0.0, "fy": 1.0, "case": 1},
        {"kind": "void-region", "x0": 0.3, "y0": 0.4, "x1": 0.5, "y1": 0.6, "fx": 0.0, "fy": 0.0, "case": 0},
    ]
)


def _problem_widgets(page_id: str) -> Problem:
    name = st.selectbox(
        "Problem", [*PROBLEMS, "custom"], format_func=PROBLEM_LABELS.get, key=f"{page_id}.problem"
    )
    nx, ny, nz = st.columns(3)
    nelx = nx.number_input("Elements x", 4, 600, 60, key=f"{page_id}.nelx")
    nely = ny.number_input("Elements y", 2, 300, 20, key=f"{page_id}.nely")
    nelz = nz.number_input("Depth z (0 = 2-D)", 0, 40, 0, key=f"{page_id}.nelz")
    if name != "custom":
        return builtin_problem(name, int(nelx), int(nely), int(nelz))
    st.caption(
        "One row per load, support or region; x0, y0, x1, y1 are fractions of the width and height "
        "(y up; equal corners = a point). Loads share fx, fy over their nodes; `case` numbers load "
        "cases (optimised for their summed compliance)."
    )
    rows = st.data_editor(
        DEFAULT_ROWS,
        num_rows="dynamic",
        column_config={
            "kind": st.column_config.SelectboxColumn("kind", options=list(ROW_KINDS), required=True)
        },
        key=f"{page_id}.rows",
        hide_index=True,
    )
    return problem_from_rows(int(nelx), int(nely), rows.to_dict("records"), nelz=int(nelz))


def render_settings(page_id: str) -> tuple[Problem, TopologySettings, PartSettings]:
    """The problem, optimiser and part settings from the widgets (not yet validated)."""
    problem = _problem_widgets(page_id)
    volfrac = st.slider("Volume fraction", 0.05, 0.95, 0.5, 0.05, key=f"{page_id}.volfrac")
    f1, f2 = st.columns(2)
    filter_kind = f1.radio("Filter", ["density", "sensitivity"], horizontal=True, key=f"{page_id}.filter")
    rmin = f2.number_input(
        "Filter radius (elements)",
        1.0,
        20.0,
        max(1.5, round(0.04 * problem.nelx, 2)),
        0.1,
        key=f"{page_id}.rmin",
    )
    p1, p2 = st.columns(2)
    penal = p1.number_input("Penalty p", 1.0, 5.0, 3.0, 0.5, key=f"{page_id}.penal")
    max_iter = p2.number_input("Max iterations", 1, 1000, 200, key=f"{page_id}.max_iter")
    with st.expander("Part: material, size, load"):
        material = st.selectbox(
            "Material",
            sorted(MATERIALS),
            format_func=lambda m: MATERIALS[m].label,
            index=1,
            key=f"{page_id}.material",
        )
        s1, s2, s3 = st.columns(3)
        element_mm = s1.number_input("Element (mm)", 0.1, 50.0, 1.0, key=f"{page_id}.element_mm")
        thickness = s2.number_input("Thickness (mm)", 0.1, 500.0, 10.0, key=f"{page_id}.thickness")
        load_n = s3.number_input("Load (N)", 1.0, 1e7, 1000.0, key=f"{page_id}.load_n")
    settings = TopologySettings(
        volfrac=float(volfrac),
        penal=float(penal),
        rmin=float(rmin),
        filter=filter_kind,
        max_iter=int(max_iter),
        preview_every=3,
    )
    return problem, settings, PartSettings(material, float(element_mm), float(thickness), float(load_n))


def _history_figure(history: list[dict[str, float]]) -> go.Figure:
    frame = pd.DataFrame(history)
    figure = go.Figure(
        go.Scatter(
            x=frame["step"] if "step" in frame else frame["iteration"],
            y=frame["compliance"],
            name="compliance",
        )
    )
    figure.update_yaxes(type="log")
    return style_training_curves(figure, "Compliance per iteration", height=240)


def render_job_details(page_id: str) -> Callable[[JobView], None]:
    """Under the live progress bar of an optimisation: the latest density image and compliance curve."""

    def details(view: JobView) -> None:
        if view.preview is not None:
            st.image(view.preview, caption="Density (black = material), live", width="stretch", clamp=True)
        history = [h for h in view.history if "compliance" in h]
        if len(history) > 1:
            st.plotly_chart(_history_figure(history), key=f"{page_id}.live_curve")

    return details


def render_study_details(page_id: str) -> Callable[[JobView], None]:
    """Under the live progress bar of a study: the trials finished so far."""

    def details(view: JobView) -> None:
        points = [h for h in view.history if "volume_fraction" in h]
        if points:
            figure = go.Figure(
                go.Scatter(
                    x=[h["volume_fraction"] for h in points],
                    y=[h["compliance"] for h in points],
                    mode="markers",
                    name="trial",
                )
            )
            figure.update_layout(
                height=260,
                margin={"l": 10, "r": 10, "t": 30, "b": 10},
                xaxis_title="volume fraction (mass)",
                yaxis_title="compliance (p = 3)",
                title=f"{len(points)} trials so far",
            )
            st.plotly_chart(figure, key=f"{page_id}.live_front")

    return details


def _mass(kg: object) -> str:
    if not isinstance(kg, int | float):
        return "–"
    return f"{kg:.3g} kg" if kg >= 1 else f"{kg * 1000:.3g} g"


def _mesh_figure(mesh: trimesh.Trimesh) -> go.Figure:
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    figure = go.Figure(
        go.Mesh3d(
            x=v[:, 0],
            y=v[:, 1],
            z=v[:, 2],
            i=f[:, 0],
            j=f[:, 1],
            k=f[:, 2],
            color="#7a8ca6",
            flatshading=True,
        )
    )
    figure.update_layout(
        height=360,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={"aspectmode": "data", "camera": {"eye": {"x": 0.4, "y": -1.5, "z": 2.0}}},
    )
    return figure


def render_outcome(page_id: str, outcome: TopologyOutcome, workspace: Workspace) -> None:
    """The finished design: numbers, density, 3-D part, FE check and downloads."""
    result, m = outcome.result, outcome.metrics
    cols = st.columns(4)
    cols[0].metric("Compliance", f"{result.compliance:.4g}")
    cols[1].metric("Volume fraction", f"{result.volume_fraction:.3f}")
    cols[2].metric("Iterations", f"{result.iterations}" + (" ✓" if result.converged else ""))
    cols[3].metric("Mass", _mass(m.get("part_mass_kg")))
    st.caption(
        f"Run {outcome.run_id} · {result.seconds:.1f} s "
        f"({result.seconds_per_iteration * 1000:.0f} ms per iteration) · {result.solver}"
    )
    left, right = st.columns(2)
    left.image(density_png(result.density), caption="Optimised density (black = material)", width="stretch")
    if outcome.mesh is not None:
        right.plotly_chart(_mesh_figure(outcome.mesh), key=f"{page_id}.mesh")
    if result.history:
        st.plotly_chart(_history_figure(result.history), key=f"{page_id}.curve")
    if outcome.check is not None:
        c = outcome.check
        st.subheader("Quick check with the Part Design FE core")
        fe = st.columns(4)
        fe[0].metric("Max von Mises", f"{c.max_von_mises_mpa:.3g} MPa")
        fe[1].metric("Max deflection", f"{c.max_displacement_mm:.2g} mm")
        fe[2].metric("Safety factor", f"{c.safety_factor:.3g}")
        fe[3].metric("Voxels", f"{c.elements:,}")
        st.caption(
            f"{MATERIALS[c.material].label}, {c.load_n:g} N per load case, thresholded at density 0.5"
            + (f"; {c.dropped} loose voxels dropped" if c.dropped else "")
        )
    elif outcome.note:
        st.warning(outcome.note, icon=":material/warning:")
    _downloads(page_id, outcome, workspace)
    render_send_button(page_id, outcome.run_id)


DOWNLOADS = (  # artifact, button label, MIME type
    ("part.stl", "STL", "model/stl"),
    ("part.glb", "GLB", "model/gltf-binary"),
    ("part.3mf", "3MF", "model/3mf"),
    ("density.png", "PNG", "image/png"),
    ("density.csv", "CSV", "text/csv"),
    ("history.csv", "History", "text/csv"),
    ("problem.json", "JSON", "application/json"),
)


def _downloads(page_id: str, outcome: TopologyOutcome, workspace: Workspace) -> None:
    """Every file of the run, read back from the workspace (saved once, not rebuilt per rerun)."""
    saved = workspace.get_run(outcome.run_id).artifacts
    present = [entry for entry in DOWNLOADS if entry[0] in saved]
    st.caption("Downloads: the part (STL, GLB, 3MF), the density (PNG, CSV), the history and the problem")
    cols = st.columns(len(present))
    for col, (name, label, mime) in zip(cols, present, strict=True):
        data = (workspace.run_dir(outcome.run_id) / name).read_bytes()
        col.download_button(
            label,
            data,
            file_name=f"topology-run{outcome.run_id}-{name}",
            mime=mime,
            key=f"{page_id}.dl.{name}",
            on_click="ignore",  # a download needs no rerun (the 3-D view would redraw)
        )


def render_study_settings(page_id: str, problem: Problem) -> tuple[TopologyStudySpec | None, int]:
    """Widgets of the Pareto study (built-in problems only)."""
    if problem.name not in PROBLEMS:
        st.caption("Pareto studies run on the built-in problems.")
        return None, 0
    st.caption(
        "Optuna (NSGA-II) varies the volume fraction, filter radius and penalty of this problem; "
        "each trial is a full optimisation. The front trades mass against compliance (at p = 3)."
    )
    c1, c2 = st.columns(2)
    trials = c1.number_input("Trials", 2, 200, 12, key=f"{page_id}.study_trials")
    iterations = c2.number_input("Iterations per trial", 5, 300, 40, key=f"{page_id}.study_iter")
    spec = TopologyStudySpec(
        problem=problem.name,
        nelx=problem.nelx,
        nely=problem.nely,
        nelz=problem.nelz,
        max_iter=int(iterations),
    )
    return spec, int(trials)


def render_study(page_id: str, run_id: int, result: TopologyStudyResult) -> None:
    """A study's front (mass vs compliance), its Pareto designs and the trials as CSV."""
    if result.trials.empty:
        st.info(f"Study {result.study_name!r} (run {run_id}) has no finished trial.")
        return
    trials = result.trials
    figure = go.Figure()
    for on_front, name in ((False, "trial"), (True, "Pareto front")):
        part = trials[trials["pareto"] == on_front].sort_values("volume_fraction")
        figure.add_trace(
            go.Scatter(
                x=part["volume_fraction"],
                y=part["compliance"],
                mode="lines+markers" if on_front else "markers",
                name=name,
                customdata=part[["volfrac", "rmin", "penal"]],
                hovertemplate="volfrac %{customdata[0]:.3f}, rmin %{customdata[1]:.2f}, "
                "p %{customdata[2]:.2f}",
            )
        )
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="volume fraction (mass)",
        yaxis_title="compliance (p = 3)",
        title=f"Study {result.study_name!r}, run {run_id}",
    )
    st.plotly_chart(figure, key=f"{page_id}.front")
    st.dataframe(result.pareto.round(4), hide_index=True)
    st.download_button(
        "Trials CSV",
        trials.to_csv(index=False).encode(),
        file_name="topology-trials.csv",
        key=f"{page_id}.dl_trials",
        on_click="ignore",
    )
