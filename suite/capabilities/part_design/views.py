"""Widgets and views of the Part Design page: the study form, the live study panel, the results."""

from __future__ import annotations

import warnings
from typing import Any

import optuna
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from domains.manufacturing.export import trials_csv
from domains.manufacturing.fea import voxel_surface
from domains.manufacturing.materials import MATERIALS, Material
from domains.manufacturing.optimize import (
    OBJECTIVE_METRIC,
    OBJECTIVES,
    DesignEvaluation,
    Limits,
    OptimizationResult,
    PartDesignSpec,
)
from domains.manufacturing.parts import FAMILIES, PartFamily
from suite.capabilities.part_design.runner import design_files, evaluate_trial
from suite.components.feedback import user_errors
from suite.jobs import JobView

__all__ = [
    "cached_evaluation",
    "material_input",
    "render_job_details",
    "render_result",
    "render_settings",
]

RESOLUTIONS = {
    1: "coarse (1 voxel per wall)",
    2: "default (2 voxels per wall)",
    3: "fine (3 voxels per wall)",
}
OBJECTIVE_LABELS = {
    "mass": "mass (kg)",
    "deflection": "deflection (mm)",
    "cost": "cost (USD)",
    "stress": "peak stress (MPa)",
}
CUSTOM = "custom"


@st.cache_resource(show_spinner="Solving the design…", max_entries=16)
def cached_evaluation(storage: str, study: str, number: int, _result: OptimizationResult) -> DesignEvaluation:
    """One trial's design rebuilt and solved, once per process (a study's trials never change)."""
    return evaluate_trial(_result, number)


def material_input(page_id: str, default: str | None = None) -> Material:
    """A library material, or the user's own from its five properties (widget keys under ``page_id``)."""
    names = [*MATERIALS, CUSTOM]
    labels = {**{k: m.label for k, m in MATERIALS.items()}, CUSTOM: "My own material…"}
    index = names.index(default) if default in names else 1
    choice = st.selectbox("Material", names, index=index, format_func=labels.get, key=f"{page_id}.material")
    if choice != CUSTOM:
        return MATERIALS[choice]
    c1, c2 = st.columns(2)
    e = c1.number_input("E (GPa)", 0.01, 1000.0, 70.0, key=f"{page_id}.e")
    nu = c2.number_input("Poisson ratio", -0.99, 0.49, 0.33, key=f"{page_id}.nu")
    sy = c1.number_input("Yield (MPa)", 0.1, 5000.0, 250.0, key=f"{page_id}.yield")
    rho = c2.number_input("Density (kg/m³)", 1.0, 25000.0, 2700.0, key=f"{page_id}.density")
    cost = c1.number_input("Cost (USD/kg)", 0.0, 10000.0, 5.0, key=f"{page_id}.cost")
    return Material(CUSTOM, "My own material", e * 1e9, nu, sy * 1e6, rho, cost)


def _ranges(page_id: str, family: type[PartFamily]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A range slider per numeric parameter (equal ends fix it) and a multiselect per category."""
    ranges: dict[str, Any] = {}
    for p in family.parameters:
        key = f"{page_id}.range.{family.name}.{p.name}"
        if p.categorical:
            ranges[p.name] = tuple(st.multiselect(p.label, p.choices, default=[p.default], key=key))
            continue
        searched = p.name in family.default_search
        low, high = (
            (max(p.low, 0.5 * p.default), min(p.high, 1.5 * p.default)) if searched else (p.default,) * 2
        )
        cast = int if p.integer else float
        unit = f" ({p.unit})" if p.unit not in ("", "-") else ""
        value = st.slider(
            f"{p.label}{unit}",
            cast(p.low),
            cast(p.high),
            (cast(low), cast(high)),
            step=1 if p.integer else None,
            key=key,
            help="Drag the ends apart to search this parameter; equal ends fix it.",
        )
        ranges[p.name] = tuple(value)
    searched = {k: v for k, v in ranges.items() if len(v) > 1 and v[0] != v[1]}
    fixed = {k: v[0] for k, v in ranges.items() if k not in searched and len(v) >= 1}
    return searched, fixed


def render_settings(page_id: str) -> tuple[PartDesignSpec | None, int, str, str | None]:
    """The study form; returns (spec or None when incomplete, trials, study name, storage URL)."""
    name = st.selectbox(
        "Part family", list(FAMILIES), format_func=lambda n: FAMILIES[n].label, key=f"{page_id}.family"
    )
    family = FAMILIES[name]
    st.caption(family.description)
    load_case = st.selectbox("Load case", family.load_cases, key=f"{page_id}.load_case.{name}")
    material = material_input(page_id)
    c1, c2, c3 = st.columns(3)
    load = c1.number_input("Load (N)", 0.0, 1e7, family.default_load_n, key=f"{page_id}.load.{name}")
    safety = c2.number_input("Safety factor", 0.1, 20.0, 2.0, key=f"{page_id}.safety")
    deflection = c3.number_input(
        "Max deflection (mm)",
        0.0,
        1000.0,
        family.default_max_deflection_mm,
        format="%.3f",
        key=f"{page_id}.deflection.{name}",
    )
    objectives = st.multiselect(
        "Objectives (minimise)",
        OBJECTIVES,
        default=["mass"],
        format_func=OBJECTIVE_LABELS.get,
        key=f"{page_id}.objectives",
        help="One objective: TPE with constraints. Several: NSGA-II, a Pareto front.",
    )
    with st.expander("Parameter ranges", expanded=False):
        ranges, fixed = _ranges(page_id, family)
    resolution = st.select_slider(
        "FE resolution", list(RESOLUTIONS), value=2, format_func=RESOLUTIONS.get, key=f"{page_id}.resolution"
    )
    c1, c2 = st.columns(2)
    trials = int(c1.number_input("Trials", 1, 2000, 30, key=f"{page_id}.trials"))
    study = c2.text_input("Study name", key=f"{page_id}.study", placeholder="automatic").strip()
    with st.expander("Shared storage (many workers)"):
        storage = st.text_input(
            "SQLAlchemy URL",
            key=f"{page_id}.storage",
            placeholder="the workspace's SQLite file",
            help="e.g. postgresql://user@host/db; then run `aigc part worker --study NAME --storage URL` "
            "on other machines to add trials to the same study.",
        ).strip()
    if not objectives:
        st.info("Choose at least one objective.")
        return None, trials, study, storage or None
    if not ranges:
        st.info("Open **Parameter ranges** and widen at least one range to search.")
        return None, trials, study, storage or None
    with user_errors():
        spec = PartDesignSpec(
            family=name,
            material=material,
            load_n=load,
            load_case=load_case,
            ranges=ranges,
            limits=Limits(safety, deflection),
            fixed=fixed,
            objectives=tuple(objectives),
            voxels_per_wall=resolution,
        ).validate()
    return spec, trials, study, storage or None


def render_job_details(view: JobView) -> None:
    """Under the live progress bar: trials done, best so far, feasible count."""
    progress = view.progress
    if progress is None:
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Trials done", progress.step)
    best = next((v for k, v in progress.metrics.items() if k.startswith("best_")), None)
    c2.metric("Best so far", "—" if best is None else f"{best:.4g}")
    c3.metric("Feasible designs", int(progress.metrics.get("feasible", 0)))
    st.caption("Stop ends at once: the finished trials are kept and shown, the running one is dropped.")


def _axis(objective: str) -> str:
    return OBJECTIVE_METRIC[objective]


def _front_figure(result: OptimizationResult) -> go.Figure:
    objectives = list(result.spec.objectives)
    partner = "mass" if objectives[0] == "deflection" else "deflection"  # one objective: show a trade-off too
    x_obj, y_obj = [*objectives, partner][:2]
    done = result.trials[result.trials["state"] == "COMPLETE"]
    figure = go.Figure()
    for feasible, colour, label in ((False, "#bbbbbb", "violates a limit"), (True, "#1f77b4", "feasible")):
        part = done[done["feasible"] == feasible]
        figure.add_scatter(
            x=part[_axis(x_obj)],
            y=part[_axis(y_obj)],
            mode="markers",
            name=label,
            customdata=part["number"],
            marker={"color": colour, "size": 8},
            hovertemplate="trial %{customdata}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
        )
    front = done.set_index("number").loc[result.best_numbers] if result.best_numbers else done.iloc[:0]
    if len(front):
        front = front.sort_values(_axis(x_obj))
        figure.add_scatter(
            x=front[_axis(x_obj)],
            y=front[_axis(y_obj)],
            mode="lines+markers",
            name="Pareto front" if len(objectives) > 1 else "best",
            customdata=front.index,
            marker={"color": "#d62728", "size": 11, "symbol": "diamond"},
            hovertemplate="trial %{customdata}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
        )
    figure.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=OBJECTIVE_LABELS[x_obj],
        yaxis_title=OBJECTIVE_LABELS[y_obj],
        legend={"orientation": "h", "y": -0.25},
        title="Designs (click one to open it)",
    )
    return figure


def _pick_design(page_id: str, result: OptimizationResult) -> int | None:
    """Chart selection or the selectbox (kept in step) chooses the design shown."""
    event = st.plotly_chart(
        _front_figure(result), key=f"{page_id}.front", on_select="rerun", selection_mode="points"
    )
    done = result.trials[result.trials["state"] == "COMPLETE"]
    order = result.best_numbers + result.least_violating
    options = order + [int(n) for n in done["number"] if int(n) not in order]
    if not options:
        return None
    key = f"{page_id}.trial.{result.study_name}"
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    picked = next((int(p["customdata"]) for p in points if p.get("customdata") is not None), None)
    marker = f"{key}.last_pick"
    if picked is not None and picked in options and st.session_state.get(marker) != picked:
        st.session_state[key] = picked  # a new click on the chart moves the selectbox too
        st.session_state[marker] = picked
    rows = done.set_index("number")

    def label(n: int) -> str:
        row = rows.loc[n]
        tag = "best" if n in result.best_numbers else ("closest" if n in result.least_violating else "")
        verdict = "feasible" if row["feasible"] else "violates a limit"
        return (
            f"trial {n} · {row['mass_kg']:.4g} kg · {row['deflection_mm']:.3g} mm · {verdict} {tag}".strip()
        )

    return st.selectbox("Design", options, format_func=label, key=key)


def _stress_mesh(evaluation: DesignEvaluation) -> go.Figure:
    """The FE model's outer voxel faces, each coloured by its element's peak von Mises stress."""
    model = evaluation.analysis.model
    vertices, triangles, owner = voxel_surface(model.grid, model.elements)
    stress = evaluation.analysis.solution.peak_von_mises[owner]
    x, y, z = vertices.T
    i, j, k = triangles.T
    figure = go.Figure(
        go.Mesh3d(
            x=x,
            y=y,
            z=z,
            i=i,
            j=j,
            k=k,
            intensity=stress,
            intensitymode="cell",
            colorscale="Turbo",
            flatshading=True,
            colorbar={"title": "von Mises (MPa)"},
            hovertemplate="%{intensity:.3g} MPa<extra></extra>",
        )
    )
    figure.update_layout(
        height=460,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={"aspectmode": "data", "camera": {"eye": {"x": 1.2, "y": -1.8, "z": 1.2}}},
    )
    return figure


def _numbers(evaluation: DesignEvaluation, result: OptimizationResult) -> pd.DataFrame:
    m, limits = evaluation.metrics, result.spec.limits
    rows = [
        (
            "Mass (kg)",
            f"{m['mass_kg']:.4g}",
            f"default design {result.baseline.get('mass_kg', float('nan')):.4g}",
        ),
        ("Cost (USD)", f"{m['cost']:.4g}", result.spec.material.label),
        ("Peak von Mises (MPa)", f"{m['max_von_mises_mpa']:.4g}", "largest element-corner stress"),
        ("Safety factor", f"{m['safety_factor']:.3g}", f"required {limits.min_safety_factor:g}"),
        ("Max deflection (mm)", f"{m['deflection_mm']:.4g}", f"limit {limits.max_deflection_mm:g}"),
        ("Feasible", "yes" if evaluation.feasible else "no", ""),
        (
            "FE model",
            f"{evaluation.analysis.elements:,} hex8",
            f"{int(m['fe_dofs']):,} DOFs, {m['fe_seconds']:.2f} s",
        ),
    ]
    rows += [
        (f"· {k}", f"{v:.4g}" if isinstance(v, float) else str(v), "") for k, v in evaluation.params.items()
    ]
    return pd.DataFrame(rows, columns=["quantity", "value", "note"])


def _history(result: OptimizationResult) -> go.Figure:
    done = result.trials[result.trials["state"] == "COMPLETE"].sort_values("number")
    key = _axis(result.spec.objectives[0])
    best = done[key].where(done["feasible"]).cummin()
    figure = go.Figure()
    figure.add_scatter(x=done["number"], y=done[key], mode="markers", name="trial")
    figure.add_scatter(
        x=done["number"], y=best, mode="lines", name="best feasible so far", line={"shape": "hv"}
    )
    figure.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="trial",
        yaxis_title=OBJECTIVE_LABELS[result.spec.objectives[0]],
        legend={"orientation": "h"},
    )
    return figure


def _parallel(result: OptimizationResult) -> go.Figure | None:
    done = result.trials[result.trials["state"] == "COMPLETE"]
    numeric = [c for c in done.columns if c.startswith("params_") and pd.api.types.is_numeric_dtype(done[c])]
    columns = numeric + [_axis(o) for o in result.spec.objectives]
    if len(done) < 2 or not numeric:
        return None
    dims = [{"label": c.removeprefix("params_"), "values": done[c]} for c in columns]
    line = {"color": done["feasible"].astype(int), "colorscale": [[0, "#bbbbbb"], [1, "#1f77b4"]]}
    figure = go.Figure(go.Parcoords(dimensions=dims, line=line))
    figure.update_layout(height=340, margin={"l": 40, "r": 40, "t": 40, "b": 10})
    return figure


def _importances(result: OptimizationResult, storage: str) -> pd.DataFrame | None:
    searched = [k for k, v in result.spec.ranges.items() if len(v) > 1 and v[0] != v[1]]
    done = result.trials[result.trials["state"] == "COMPLETE"]
    if len(searched) < 2 or len(done) < 4:
        return None
    study = optuna.load_study(study_name=result.study_name, storage=storage)
    with warnings.catch_warnings():  # it warns that low values are the goal: they are (we minimise)
        warnings.simplefilter("ignore", UserWarning)
        values = optuna.importance.get_param_importances(study, target=lambda t: t.values[0])
    return pd.DataFrame({"parameter": list(values), "importance": list(values.values())})


def render_result(page_id: str, result: OptimizationResult, storage: str, run_id: int | None) -> None:
    """Summary, design picker (Pareto chart + selectbox), 3D stress view, history, downloads."""
    title = f"Study {result.study_name}" + (f" (run {run_id})" if run_id else "")
    st.subheader(title)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Trials", len(result.trials))
    c2.metric("Feasible", result.feasible_count)
    best = result.trials.set_index("number").loc[result.best_numbers[0]] if result.best_numbers else None
    c3.metric("Lightest feasible (kg)", "—" if best is None else f"{float(best['mass_kg']):.4g}")
    saved = result.mass_saved()
    c4.metric("Mass saved vs default", "—" if saved is None else f"{100 * saved:.1f} %")
    if not (result.trials["state"] == "COMPLETE").any():
        st.info("No trial of this study has finished yet.", icon=":material/hourglass_empty:")
        return
    if not result.best_numbers:
        st.warning(
            "No design met the limits (stress and deflection). The designs closest to feasible are listed "
            "first; relax a limit, widen the ranges or choose a stiffer material.",
            icon=":material/warning:",
        )
    number = _pick_design(page_id, result)
    tabs = st.tabs(["Design", "History", "Parallel coordinates", "Importances", "All trials"])
    with tabs[0]:
        if number is None:
            st.info("No trial has finished yet.")
        else:
            with user_errors():
                evaluation = cached_evaluation(storage, result.study_name, number, result)
                files = design_files(result, number)
            st.plotly_chart(_stress_mesh(evaluation), key=f"{page_id}.mesh")
            st.caption(
                "The finite-element model (voxels) of this design, each face coloured by the peak von Mises "
                "stress of its element. Downloads are the exact CAD mesh."
            )
            st.dataframe(_numbers(evaluation, result), hide_index=True, width="stretch")
            stem = f"{result.study_name}-trial-{number}"
            cols = st.columns(4)
            for col, (fmt, mime) in zip(
                cols,
                (
                    ("stl", "model/stl"),
                    ("glb", "model/gltf-binary"),
                    ("3mf", "model/3mf"),
                    ("json", "application/json"),
                ),
                strict=True,
            ):
                col.download_button(
                    f"Download {fmt.upper()}",
                    files[fmt],
                    file_name=f"{stem}.{fmt}",
                    mime=mime,
                    key=f"{page_id}.download.{fmt}",
                )
    with tabs[1]:
        st.plotly_chart(_history(result), key=f"{page_id}.history")
    with tabs[2]:
        figure = _parallel(result)
        st.plotly_chart(figure, key=f"{page_id}.parallel") if figure else st.info(
            "Needs two finished trials."
        )
    with tabs[3]:
        with user_errors():
            importances = _importances(result, storage)
        if importances is None:
            st.info("Needs at least two searched parameters and four finished trials.")
        else:
            st.bar_chart(importances, x="parameter", y="importance", horizontal=True)
            st.caption("How much each parameter decides the first objective (Optuna's PED-ANOVA importance).")
    with tabs[4]:
        st.dataframe(result.trials, hide_index=True, width="stretch")
        st.download_button(
            "Download trials (CSV)",
            trials_csv(result.trials),
            file_name=f"{result.study_name}-trials.csv",
            mime="text/csv",
            key=f"{page_id}.download.csv",
        )
