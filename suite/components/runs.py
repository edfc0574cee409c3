"""Run tables shared by Home and the capability pages."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from suite.workspace import RunRecord

__all__ = ["render_runs_table", "runs_frame"]


def _metrics_text(metrics: dict[str, Any], limit: int = 4) -> str:
    items = list(metrics.items())[:limit]
    text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items)
    return text + (" …" if len(metrics) > limit else "")


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run, with the columns people scan for: what, when, how it went, key metrics."""
    return pd.DataFrame(
        {
            "Run": [r.id for r in records],
            "Capability": [r.capability for r in records],
            "Status": [r.status for r in records],
            "Started (UTC)": [r.started[:19].replace("T", " ") for r in records],
            "Seconds": [r.duration_s for r in records],
            "Metrics": [_metrics_text(r.metrics) for r in records],
            "Note": [r.error or "" for r in records],
        }
    )


def render_runs_table(records: list[RunRecord], key: str) -> None:
    """A sortable runs table, or a hint when there are none yet."""
    if not records:
        st.info("No runs yet. Runs appear here as soon as a capability starts one.", icon=":material/info:")
        return
    st.dataframe(
        runs_frame(records),
        key=key,
        hide_index=True,
        width="stretch",
        column_config={
            "Run": st.column_config.NumberColumn(format="%d", width="small"),
            "Seconds": st.column_config.NumberColumn(format="%.1f", width="small"),
        },
    )
