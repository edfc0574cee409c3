"""Chart styling shared by the pages, so every training curve looks and reads the same."""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["style_training_curves"]


def style_training_curves(figure: go.Figure, title: str, height: int = 280) -> go.Figure:
    """Compact layout with a step axis and a horizontal legend."""
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=title,
        xaxis_title="step",
        legend={"orientation": "h"},
    )
    return figure
