"""Risk Lab charts and the downloadable HTML report: plain plotly, no Streamlit, so the runners (which
write the report inside a job worker) and the page's views share them."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.io import to_html

from domains.finance.backtest import BacktestResult
from domains.finance.credit import CreditResult
from domains.finance.risk import MODEL_LABELS
from domains.finance.stress import StressReport

__all__ = [
    "backtest_figure",
    "calibration_figure",
    "fan_figure",
    "html_report",
    "roc_figure",
    "stress_figure",
]

ZONE_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}


def _layout(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    figure.update_layout(
        title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"}
    )
    return figure


def backtest_figure(result: BacktestResult) -> go.Figure:
    """Realised daily losses, the VaR forecast, and the exceptions marked in red."""
    table = result.forecasts
    figure = go.Figure()
    figure.add_scatter(
        x=table.index,
        y=table["loss"] * 100,
        mode="lines",
        name="realised loss (%)",
        line={"color": "#90a4ae", "width": 1},
    )
    figure.add_scatter(
        x=table.index,
        y=table["var"] * 100,
        mode="lines",
        name=f"VaR {result.level:.0%}",
        line={"color": "#1565c0", "width": 1.5},
    )
    hits = table[table["exception"]]
    figure.add_scatter(
        x=hits.index,
        y=hits["loss"] * 100,
        mode="markers",
        name=f"exceptions ({len(hits)})",
        marker={"color": "#c62828", "size": 6, "symbol": "x"},
    )
    label = MODEL_LABELS.get(result.model, result.model)
    title = f"{label}: {result.exceptions} exceptions in {result.days} days"
    figure.update_yaxes(title="loss, % of value")
    return _layout(figure, title)


def fan_figure(fans: dict[str, pd.DataFrame], value: float) -> go.Figure:
    """Portfolio value fan charts (5-95 % and 25-75 % bands, median) for each generator."""
    colours = ["#1565c0", "#ef6c00", "#2e7d32"]
    figure = go.Figure()
    for (name, fan), colour in zip(fans.items(), colours, strict=False):
        days = list(fan.index)
        for low, high, opacity in (("q05", "q95", 0.15), ("q25", "q75", 0.3)):
            figure.add_scatter(
                x=days + days[::-1],
                y=list(fan[high] * value) + list(fan[low] * value)[::-1],
                fill="toself",
                fillcolor=colour,
                opacity=opacity,
                line={"width": 0},
                name=f"{name} {low[1:]}-{high[1:]} %",
                hoverinfo="skip",
            )
        figure.add_scatter(
            x=days, y=fan["q50"] * value, mode="lines", line={"color": colour}, name=f"{name} median"
        )
    figure.update_xaxes(title="trading days ahead")
    figure.update_yaxes(title="portfolio value")
    return _layout(figure, "Scenario fan chart", height=400)


def stress_figure(report: StressReport) -> go.Figure:
    figure = go.Figure()
    for name, path in report.paths.items():
        figure.add_scatter(x=list(range(1, len(path) + 1)), y=path, mode="lines", name=name)
    figure.update_xaxes(title="trading days into the window")
    figure.update_yaxes(title="portfolio value")
    return _layout(figure, "Portfolio through historical stress windows")


def roc_figure(result: CreditResult) -> go.Figure:
    figure = go.Figure()
    for name, curve in result.roc.groupby("model"):
        auc = result.metrics.query("model == @name and split == 'test'")["auc"].iloc[0]
        figure.add_scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", name=f"{name} (AUC {auc:.3f})")
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance")
    figure.update_xaxes(title="false positive rate")
    figure.update_yaxes(title="true positive rate")
    return _layout(figure, "ROC on held-out applicants")


def calibration_figure(result: CreditResult) -> go.Figure:
    figure = go.Figure()
    for name, curve in result.calibration.groupby("model"):
        figure.add_scatter(x=curve["predicted"], y=curve["observed"], mode="lines+markers", name=name)
    top = float(max(result.calibration["predicted"].max(), result.calibration["observed"].max()))
    figure.add_scatter(
        x=[0, top], y=[0, top], mode="lines", line={"dash": "dot", "color": "grey"}, name="perfect"
    )
    figure.update_xaxes(title="predicted default probability")
    figure.update_yaxes(title="observed default rate")
    return _layout(figure, "Calibration (held-out deciles)")


Section = tuple[str, "str | pd.DataFrame | go.Figure"]


def html_report(title: str, sections: Sequence[Section], notes: Sequence[str] = ()) -> str:
    """A self-contained HTML report: headings, tables, interactive charts (plotly.js inlined once)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f3f3f3}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [f"<p><em>{html.escape(n)}</em></p>" for n in notes]
    plotly_included = False
    for heading, content in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(content, pd.DataFrame):
            parts.append(content.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0))
        elif isinstance(content, go.Figure):
            parts.append(to_html(content, full_html=False, include_plotlyjs=not plotly_included))
            plotly_included = True
        else:
            parts.append(f"<p>{html.escape(str(content))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
