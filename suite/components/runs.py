"""Run tables and the run detail view, shared by Home and the capability pages."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from suite.capabilities import for_run
from suite.components.navigation import page_of
from suite.jobs import JobService
from suite.workspace import RunRecord, Workspace

__all__ = ["render_run_detail", "render_runs_table", "run_title", "runs_frame"]

DOWNLOAD_LIMIT_BYTES = 50 * 2**20  # larger artifacts are named, not loaded into the page


def _metrics_text(metrics: dict[str, Any], limit: int = 4) -> str:
    items = list(metrics.items())[:limit]
    text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items)
    return text + (" …" if len(metrics) > limit else "")


def run_title(run_name: str) -> str:
    """``strategy.search`` -> ``Strategy Studio · search``; unknown names stay as they are."""
    capability = for_run(run_name)
    if capability is None:
        return run_name
    action = run_name.split(".", 1)[-1].replace("-", " ")
    return f"{capability.title} · {action}"


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run, with the columns people scan for: what, when, how it went, key metrics."""
    return pd.DataFrame(
        {
            "Run": [r.id for r in records],
            "Capability": [run_title(r.capability) for r in records],
            "Status": [r.status for r in records],
            "Started (UTC)": [r.started[:19].replace("T", " ") for r in records],
            "Seconds": [r.duration_s for r in records],
            "Metrics": [_metrics_text(r.metrics) for r in records],
            "Note": [r.error or "" for r in records],
        }
    )


def render_runs_table(records: list[RunRecord], key: str, selectable: bool = False) -> RunRecord | None:
    """A sortable runs table, or a hint when there are none yet.

    Returns:
        With ``selectable``, the run whose row the user picked (None until one is).
    """
    if not records:
        st.info("No runs yet. Runs appear here as soon as a capability starts one.", icon=":material/info:")
        return None
    event = st.dataframe(
        runs_frame(records),
        key=key,
        hide_index=True,
        width="stretch",
        column_config={
            "Run": st.column_config.NumberColumn(format="%d", width="small"),
            "Seconds": st.column_config.NumberColumn(format="%.1f", width="small"),
        },
        **({"on_select": "rerun", "selection_mode": "single-row"} if selectable else {}),
    )
    if not selectable:
        return None
    rows = event.selection.rows if event is not None else []
    return records[rows[0]] if rows else None


def _folder_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, arcname=str(path.relative_to(folder)))
    return buffer.getvalue()


def _render_downloads(workspace: Workspace, record: RunRecord, key: str) -> None:
    folder = workspace.run_dir(record.id)
    columns = st.columns(3)
    for i, name in enumerate(record.artifacts):
        path = folder / name
        column = columns[i % 3]
        if not path.exists():
            column.caption(f"{name}: missing")
            continue
        size = (
            sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        if size > DOWNLOAD_LIMIT_BYTES:
            column.caption(f"{name}: {size / 2**20:.0f} MB, in `{path}`")
            continue
        data, file_name = (_folder_zip(path), f"{name}.zip") if path.is_dir() else (path.read_bytes(), name)
        column.download_button(
            f"Download {file_name}", data, file_name=file_name, key=f"{key}.dl.{record.id}.{name}"
        )


def render_run_detail(workspace: Workspace, record: RunRecord, jobs: JobService, key: str) -> None:
    """One run: what and how it went, its metrics, params and files; Stop while it runs."""
    capability = for_run(record.capability)
    st.markdown(f"#### Run {record.id}: {run_title(record.capability)}")
    seconds = f"{record.duration_s:.1f} s" if record.duration_s is not None else "still running"
    st.caption(f"{record.status} · started {record.started[:19].replace('T', ' ')} UTC · {seconds}")
    if record.error:
        st.caption(f"Note: {record.error}")
    if record.status == "running":
        if record.job_id is not None:
            if st.button("Stop this run", key=f"{key}.stop.{record.id}", icon=":material/stop:"):
                jobs.request_stop(record.job_id)
                st.toast(f"Stopping run {record.id}: it ends within a few seconds and keeps what it has.")
        else:
            st.caption(
                f"Started from the command line (process {record.pid} on {record.host}); stop it there "
                "with Ctrl+C."
            )
    if capability is not None:
        query = (
            {"job": str(record.job_id)} if record.job_id is not None and record.status == "running" else None
        )
        st.page_link(
            page_of(capability),
            label=f"Open {capability.title}",
            icon=capability.icon,
            query_params=query,
        )
    if record.metrics:
        st.dataframe(
            pd.DataFrame(
                {"metric": list(record.metrics), "value": [str(v) for v in record.metrics.values()]}
            ),
            hide_index=True,
            key=f"{key}.metrics.{record.id}",
        )
    with st.expander("Parameters"):
        st.code(json.dumps(record.params, indent=2, default=str), language="json")
    if record.artifacts:
        _render_downloads(workspace, record, key)
