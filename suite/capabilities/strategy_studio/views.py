"""Views of the Strategy Studio page: universe picker, search settings, progress, results and downloads."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from domains.finance.data import BUILTIN_ASSETS, PricePolicy, read_price_csv
from domains.finance.strategy.candidates import CONFIGS, STRATEGY_LABELS
from domains.finance.strategy.portfolio_backtest import BacktestSettings, Constraints
from domains.finance.strategy.search import Goal, SearchSpec
from domains.finance.strategy.universe import UNIVERSES, Universe, load_universe, universe_from_prices
from suite.capabilities.strategy_studio.runner import StrategyOutcome, curves
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.workspace import Workspace

__all__ = [
    "equity_figure",
    "render_job_details",
    "render_outcome",
    "render_settings",
    "render_universe",
    "weights_figure",
]

HORIZONS = {"3 months": 63, "6 months": 126, "1 year": 252, "2 years": 504}
GOALS = {"sharpe": "Highest Sharpe ratio", "return_target": "Return target", "risk_budget": "Risk budget"}
DOWNLOADS = ["ranking.csv", "trials.csv", "equity.csv", "weights.csv", "memo.html", "memo.md"]


@st.cache_data(show_spinner="Loading prices…", max_entries=8)
def _bundled(name: str) -> Universe:
    return load_universe(name)


@st.cache_data(show_spinner="Checking the upload…", max_entries=4)
def _uploaded(data: bytes, name: str, missing: str, benchmark: str | None) -> Universe:
    return universe_from_prices(read_price_csv(data, PricePolicy(missing=missing), name), benchmark)  # type: ignore[arg-type]


def render_universe(page_id: str) -> Universe | None:
    """Bundled universe or an uploaded price CSV; None (with a hint) until there is valid data."""
    source = st.radio("Universe", ["Bundled", "Upload prices"], horizontal=True, key=f"{page_id}.source")
    if source == "Bundled":
        name = st.selectbox(
            "Bundled universe",
            list(UNIVERSES),
            format_func=lambda n: UNIVERSES[n].label,
            key=f"{page_id}.universe",
        )
        with user_errors():
            universe = _bundled(name)
    else:
        left, mid, right = st.columns(3)
        upload = left.file_uploader(
            "Prices CSV (date column + one column per asset)", type=["csv"], key=f"{page_id}.upload"
        )
        missing = mid.selectbox(
            "Empty cells",
            ["error", "drop_rows", "forward_fill"],
            key=f"{page_id}.missing",
            help="Nothing is fixed silently: the policy is applied and reported, or the file refused.",
        )
        benchmark = right.selectbox(
            "Benchmark", ["equal parts held", *sorted(BUILTIN_ASSETS)], key=f"{page_id}.benchmark"
        )
        if upload is None:
            st.info("Upload a CSV of daily prices to continue.", icon=":material/upload:")
            return None
        with user_errors():
            universe = _uploaded(
                upload.getvalue(),
                upload.name,
                missing,
                None if benchmark == "equal parts held" else benchmark,
            )
    prices = universe.prices
    st.caption(
        f"{', '.join(universe.assets)} · {prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d} · "
        f"{len(prices):,} days · benchmark: {universe.benchmark}"
    )
    for note in universe.notes:
        st.caption(f"• {note}")
    return universe


def render_settings(page_id: str) -> SearchSpec:
    """Goal, horizon, constraints, costs and search options as a validated `SearchSpec`."""
    left, mid, right = st.columns(3)
    goal_kind = left.selectbox("Goal", list(GOALS), format_func=GOALS.get, key=f"{page_id}.goal")
    target = 0.0
    if goal_kind != "sharpe":
        label = "Annual return target (%)" if goal_kind == "return_target" else "Annual volatility budget (%)"
        target = (
            mid.number_input(
                label, 0.0, 100.0, 8.0 if goal_kind == "return_target" else 12.0, 0.5, key=f"{page_id}.target"
            )
            / 100
        )
    horizon = right.selectbox("Horizon (test window)", list(HORIZONS), index=2, key=f"{page_id}.horizon")
    left, mid, right = st.columns(3)
    max_weight = left.slider("Max weight per asset (%)", 5, 100, 100, 5, key=f"{page_id}.max_weight") / 100
    cap = mid.number_input(
        "Turnover cap per rebalancing (%; 0 = none)", 0, 200, 0, 5, key=f"{page_id}.turnover"
    )
    long_only = right.checkbox("Long only", True, key=f"{page_id}.long_only")
    left, mid, right = st.columns(3)
    commission = left.number_input("Commission (bps)", 0.0, 100.0, 5.0, 1.0, key=f"{page_id}.commission")
    slippage = mid.number_input("Slippage (bps)", 0.0, 100.0, 5.0, 1.0, key=f"{page_id}.slippage")
    cash_rate = right.number_input("Cash rate (% a year)", 0.0, 20.0, 0.0, 0.25, key=f"{page_id}.cash") / 100
    with st.expander("Search options"):
        left, mid, right = st.columns(3)
        trials = left.number_input("Trials", 1, 2000, 200, 10, key=f"{page_id}.trials")
        scheme = mid.selectbox("Training windows", ["rolling", "expanding"], key=f"{page_id}.scheme")
        train_days = right.number_input(
            "Training window (days)", 126, 2520, 504, 21, key=f"{page_id}.train_days"
        )
        left, mid, right = st.columns(3)
        holdout = left.slider("Holdout share (%)", 10, 50, 30, 5, key=f"{page_id}.holdout") / 100
        scenario = mid.selectbox(
            "Min-CVaR scenarios",
            ["generative", "garch"],
            key=f"{page_id}.scenarios",
            help="The generative path model of Risk Lab, or its GARCH-t baseline.",
        )
        steps = right.number_input("Scenario model training steps", 50, 5000, 600, 50, key=f"{page_id}.steps")
        strategies = st.multiselect(
            "Strategy types",
            list(CONFIGS),
            default=list(CONFIGS),
            format_func=STRATEGY_LABELS.get,
            key=f"{page_id}.strategies",
        )
    with user_errors():
        settings = BacktestSettings(
            commission, slippage, cash_rate, Constraints(long_only, max_weight, cap / 100 if cap else None)
        )
        return SearchSpec(
            trials=int(trials),
            strategies=tuple(strategies),
            goal=Goal(goal_kind, target),
            scheme=scheme,
            train_days=int(train_days),
            test_days=HORIZONS[horizon],
            holdout=holdout,
            settings=settings,
            scenario_kind=scenario,
            scenario_steps=int(steps),
        )


def render_job_details(view: JobView) -> None:
    """The best score so far, under the live progress bar."""
    progress = view.progress
    if progress and "best_score" in progress.metrics:
        st.caption(f"Best score so far: {progress.metrics['best_score']:.3f}")


def equity_figure(outcome: StrategyOutcome) -> go.Figure:
    """Holdout equity (top) and drawdown (bottom) of the chosen strategy, equal weight and the benchmark."""
    equity = curves(outcome.result)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.05)
    for name in equity.columns:
        figure.add_scatter(x=equity.index, y=equity[name], name=name, row=1, col=1, legendgroup=name)
        dd = equity[name] / equity[name].cummax().clip(lower=1.0) - 1.0
        figure.add_scatter(
            x=dd.index, y=dd * 100, name=name, row=2, col=1, legendgroup=name, showlegend=False
        )
    figure.update_yaxes(title_text="Value (start = 1)", row=1, col=1)
    figure.update_yaxes(title_text="Drawdown %", row=2, col=1)
    figure.update_layout(
        title="Holdout: equity and drawdown",
        height=520,
        margin={"t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.08},
    )
    return figure


def weights_figure(outcome: StrategyOutcome) -> go.Figure:
    """The chosen strategy's holdings over the holdout (stacked; the gap to 100 % is cash)."""
    weights = outcome.result.holdout[outcome.result.chosen_label].path.weights
    figure = go.Figure()
    for asset in weights.columns:
        figure.add_scatter(
            x=weights.index, y=weights[asset] * 100, name=str(asset), stackgroup="w", mode="lines"
        )
    figure.update_layout(
        title="Weights over time (holdout)", yaxis_title="% of value", height=320, margin={"t": 50, "b": 30}
    )
    return figure


def _ranking_view(ranking: pd.DataFrame) -> pd.DataFrame:
    view = ranking.drop(columns=["type", "role"]).copy()
    for column in ("holdout_cagr", "holdout_volatility", "holdout_max_drawdown", "holdout_hit_rate"):
        view[column] = view[column] * 100
    return view.rename(
        columns={
            "rank": "Rank",
            "strategy": "Strategy",
            "validation_score": "Validation score",
            "validation_sharpe": "Validation Sharpe",
            "holdout_cagr": "CAGR %",
            "holdout_volatility": "Vol %",
            "holdout_sharpe": "Sharpe",
            "holdout_sortino": "Sortino",
            "holdout_max_drawdown": "Max DD %",
            "holdout_calmar": "Calmar",
            "holdout_turnover": "Turnover/yr",
            "holdout_hit_rate": "Hit rate %",
        }
    )


def render_outcome(page_id: str, workspace: Workspace, outcome: StrategyOutcome) -> None:
    result = outcome.result
    stopped = " (stopped early: trials so far)" if result.stopped else ""
    st.subheader(f"Run {outcome.run_id}: strategy search{stopped}")
    chosen = result.ranking.iloc[0]
    columns = st.columns(4)
    columns[0].metric("Holdout Sharpe", f"{chosen['holdout_sharpe']:.2f}")
    columns[1].metric("Holdout max drawdown", f"{chosen['holdout_max_drawdown']:.1%}")
    columns[2].metric(
        "Deflated Sharpe ratio",
        f"{result.deflated_sharpe['dsr']:.2f}",
        help="Probability that the validation Sharpe reflects skill, given the number of trials.",
    )
    columns[3].metric("Trials", f"{len(result.trials)} in {result.seconds:.0f}s")
    st.markdown(f"**Chosen:** {result.chosen_label}")
    st.caption(
        f"Validation {result.periods['validation_start']} to {result.periods['validation_end']}; holdout "
        f"{result.periods['holdout_start']} to {result.periods['holdout_end']} (never seen by the search)."
    )
    st.dataframe(
        _ranking_view(result.ranking).round(3), hide_index=True, width="stretch", key=f"{page_id}.ranking"
    )
    st.plotly_chart(equity_figure(outcome), key=f"{page_id}.equity")
    st.plotly_chart(weights_figure(outcome), key=f"{page_id}.weights")
    with st.container(border=True):
        st.markdown(outcome.memo.markdown)
        if outcome.memo.removed:
            st.caption(
                f"{len(outcome.memo.removed)} sentence(s) of the model's draft were dropped: they held "
                "numbers that are not in the fact table."
            )
    columns = st.columns(3)
    for number, name in enumerate(DOWNLOADS):
        column = columns[number % 3]
        path = workspace.artifact_path(outcome.run_id, name)
        mime = (
            "text/html" if name.endswith(".html") else "text/markdown" if name.endswith(".md") else "text/csv"
        )
        column.download_button(
            f"Download {name}",
            path.read_bytes(),
            file_name=f"run{outcome.run_id}-{name}",
            mime=mime,
            key=f"{page_id}.download.{outcome.run_id}.{name}",
            on_click="ignore",  # a download needs no rerun (the results stay as they are)
        )
