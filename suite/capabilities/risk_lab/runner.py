"""Risk Lab's recorded analyses: each one is a workspace run with CSVs and an HTML report.

The page and `aigc risk ...` call the same functions, so a run looks alike from either: params (data,
portfolio, settings), metrics (the headline figures), and artifacts (``*.csv``, ``report.html``, and for
scenarios the trained model in store format).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from domains.finance.backtest import BacktestResult, backtest
from domains.finance.credit import CreditData, CreditResult, CreditSpec, fit_credit_models
from domains.finance.data import PriceData, log_returns, normalise_weights, portfolio_returns
from domains.finance.risk import MODEL_LABELS, RISK_MODELS, RiskModel, risk_table
from domains.finance.scenarios import (
    GarchBaseline,
    GenerativeRiskModel,
    ScenarioSpec,
    TrainedScenarios,
    fan_chart,
    get_scenario_model,
    load_scenario_model,
    random_starts,
    stylised_facts,
)
from domains.finance.stress import ShockResult, StressReport, apply_shocks, replay_windows
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop
from shared_models.store import ModelCard, save_model
from suite.capabilities.risk_lab.report import (
    backtest_figure,
    calibration_figure,
    fan_figure,
    html_report,
    roc_figure,
    stress_figure,
)
from suite.workspace import Run, RunCancelled, Workspace

__all__ = [
    "BacktestOutcome",
    "CreditOutcome",
    "Portfolio",
    "ScenarioOutcome",
    "StressOutcome",
    "VarOutcome",
    "record_backtest",
    "record_credit",
    "record_scenarios",
    "record_stress",
    "record_var",
    "scenarios_job",
    "var_job",
]

REPORT = "report.html"


@dataclass
class Portfolio:
    """Prices and how the portfolio holds them.

    Attributes:
        data: Validated prices (bundled or uploaded) and the notes of what validation did.
        weights: Asset -> weight (normalised to fractions of value).
        value: Portfolio value in currency, for P&L figures.
    """

    data: PriceData
    weights: dict[str, float] = field(default_factory=dict)
    value: float = 1_000_000.0

    def __post_init__(self) -> None:
        self.weights = normalise_weights(self.data.assets, self.weights or None)
        if not np.isfinite(self.value) or self.value <= 0:
            raise InputError(f"the portfolio value must be positive, got {self.value}")

    @property
    def returns(self) -> pd.DataFrame:
        return log_returns(self.data.prices)

    @property
    def portfolio_returns(self) -> pd.Series:
        return portfolio_returns(self.returns, self.weights)

    def params(self) -> dict[str, object]:
        prices = self.data.prices
        return {
            "data": self.data.source,
            "assets": self.data.assets,
            "weights": self.weights,
            "value": self.value,
            "first_day": prices.index[0].date().isoformat(),
            "last_day": prices.index[-1].date().isoformat(),
            "days": len(prices),
            "data_notes": self.data.notes,
        }


def _save_csv(run: Run, name: str, frame: pd.DataFrame, index: bool = False) -> None:
    run.save_text(name, frame.to_csv(index=index))


# -- VaR / ES --------------------------------------------------------------------------------------


@dataclass
class VarOutcome:
    run_id: int
    table: pd.DataFrame


def record_var(
    workspace: Workspace,
    portfolio: Portfolio,
    models: Sequence[str] = tuple(RISK_MODELS),
    levels: Sequence[float] = (0.95, 0.99),
    horizons: Sequence[int] = (1, 10),
    window: int = 1000,
    scenario_model: TrainedScenarios | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> VarOutcome:
    """VaR and ES for the day after the data ends, by model, level and horizon, as a run.

    A few seconds at most (the generative model's paths are the slow part), so ``stop`` is not read:
    the work ends by itself.
    """
    params = {
        **portfolio.params(),
        "models": list(models),
        "levels": list(levels),
        "horizons": list(horizons),
        "window": window,
        "scenario_model": scenario_model is not None,
    }
    with workspace.start_run("risk.var", params) as run:
        extra: dict[str, RiskModel] = {}
        if scenario_model is not None:
            if on_progress is not None:
                on_progress(Progress(0, None, "simulating the generative model's paths"))
            generative = GenerativeRiskModel(scenario_model.model, portfolio.weights, paths=5000)
            extra["generative"] = generative.fit(
                portfolio.returns[scenario_model.model.assets].to_numpy()[-window:]
            )
        if on_progress is not None:
            on_progress(Progress(0, None, f"estimating VaR and ES with {len(models) + len(extra)} models"))
        table = risk_table(portfolio.portfolio_returns, models, levels, horizons, window, extra)
        table["var_amount"] = -np.expm1(-table["var"]) * portfolio.value
        table["es_amount"] = -np.expm1(-table["es"]) * portfolio.value
        run.log_metrics(
            {f"var_{r.model}_{r.level:g}_{r.horizon}d": round(r.var, 6) for r in table.itertuples()}
        )
        _save_csv(run, "var_es.csv", table)
        run.save_text(
            REPORT,
            html_report(
                f"VaR and ES: {portfolio.data.source}",
                [
                    (
                        "Portfolio",
                        pd.DataFrame(
                            {"asset": list(portfolio.weights), "weight": list(portfolio.weights.values())}
                        ),
                    ),
                    ("VaR and ES (loss fractions and amounts)", table),
                ],
                notes=[
                    f"Data {params['first_day']} to {params['last_day']}; estimation window {window} days.",
                    *portfolio.data.notes,
                ],
            ),
        )
    return VarOutcome(run.id, table)


def var_job(
    workspace: Workspace,
    portfolio: Portfolio,
    models: Sequence[str],
    levels: Sequence[float],
    horizons: Sequence[int],
    window: int,
    scenario_run: int | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> VarOutcome:
    """`record_var` as a job: the generative model comes from a scenario run's folder, not the page."""
    trained = None
    if scenario_run is not None:
        if on_progress is not None:
            on_progress(Progress(0, None, f"loading the scenario model of run {scenario_run}"))
        trained = load_scenario_model(workspace.run_dir(scenario_run) / "model")
        if trained.model.assets != portfolio.data.assets:
            raise InputError(
                f"run {scenario_run}'s scenario model covers {trained.model.assets}, not the portfolio's "
                f"{portfolio.data.assets}; train one on these assets in the Scenarios tab"
            )
    return record_var(workspace, portfolio, models, levels, horizons, window, trained, on_progress, stop)


# -- backtests ------------------------------------------------------------------------------------


@dataclass
class BacktestOutcome:
    run_id: int
    results: list[BacktestResult]
    stopped: bool = False

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([r.summary() for r in self.results])


def _scenario_backtester(
    portfolio: Portfolio,
    window: int,
    seconds: float,
    store_root: object,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
) -> GenerativeRiskModel:
    """A generative VaR model trained only on the days before the first forecast (out of sample)."""
    history = portfolio.returns.iloc[:window]
    spec = ScenarioSpec(steps=None, seconds=seconds)
    trained = get_scenario_model(history, spec, store_root, on_progress, stop)  # type: ignore[arg-type]
    return GenerativeRiskModel(trained.model, portfolio.weights, paths=1000)


def record_backtest(
    workspace: Workspace,
    portfolio: Portfolio,
    models: Sequence[str] = ("historical", "ewma", "fhs_garch"),
    level: float = 0.99,
    window: int = 1000,
    refit_every: int = 20,
    scenario_seconds: float = 60.0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> BacktestOutcome:
    """Backtest each model out of sample (forecast for day t from the ``window`` days before it), as a run.

    ``generative`` among the models trains a scenario model on the first ``window`` days only (for at
    most ``scenario_seconds``; cached in the workspace), then forecasts the rest without retraining.
    """
    unknown = [m for m in models if m not in MODEL_LABELS]
    if unknown or not models:
        raise InputError(f"unknown models {unknown}; available: {sorted(MODEL_LABELS)}")
    params = {
        **portfolio.params(),
        "models": list(models),
        "level": level,
        "window": window,
        "refit_every": refit_every,
    }
    results: list[BacktestResult] = []
    with workspace.start_run("risk.backtest", params) as run:
        for number, name in enumerate(models, start=1):

            def relay(progress: Progress, number: int = number, name: str = name) -> bool | None:
                if on_progress is None:
                    return None
                message = f"model {number}/{len(models)} ({name}): {progress.message}"
                return on_progress(
                    Progress(
                        progress.step, progress.total, message, progress.metrics, elapsed_s=progress.elapsed_s
                    )
                )

            if name == "generative":
                model: RiskModel | str = _scenario_backtester(
                    portfolio, window, scenario_seconds, workspace.root / "models", relay, stop
                )
                data: pd.Series | pd.DataFrame = portfolio.returns
                if stop is not None and stop.is_set():  # stopped in its training: no day to forecast
                    break
            else:
                model, data = name, portfolio.portfolio_returns
            result = backtest(
                data, model, level, window, refit_every=refit_every, on_progress=relay, stop=stop
            )
            results.append(result)
            if result.stopped or (stop is not None and stop.is_set()):
                break
        outcome = BacktestOutcome(run.id, results, stopped=stop is not None and stop.is_set())
        if not results:
            raise RunCancelled("stopped before the first model made a forecast; nothing to keep")
        summary = outcome.summary
        run.log_metrics(
            {
                f"{r.model}_{k}": v
                for r in results
                for k, v in r.summary().items()
                if k in ("exceptions", "kupiec_p", "christoffersen_p", "cc_p", "zone")
            }
        )
        _save_csv(run, "backtest_summary.csv", summary)
        forecasts = pd.concat({r.model: r.forecasts for r in results}, axis=1)
        forecasts.columns = [f"{m}_{c}" for m, c in forecasts.columns]
        _save_csv(run, "backtest_forecasts.csv", forecasts.rename_axis("date"), index=True)
        run.save_text(
            REPORT,
            html_report(
                f"VaR backtest at {level:.0%}: {portfolio.data.source}",
                [("Summary", summary), *((MODEL_LABELS[r.model], backtest_figure(r)) for r in results)],
                notes=[
                    f"Rolling {window}-day window, parameters re-estimated every {refit_every} days; "
                    "each forecast uses data before its day only.",
                    *portfolio.data.notes,
                ],
            ),
        )
        if outcome.stopped:
            raise RunCancelled(f"stopped after {len(results)} model(s); the finished part is saved")
    return outcome


# -- scenarios ------------------------------------------------------------------------------------


@dataclass
class ScenarioOutcome:
    """A scenario run. A stop skips the comparison: ``facts`` is then empty and ``fans`` too.

    Attributes:
        trained: The model (None in a job's result: it stays in the run's ``model`` folder).
        card: Its model card; ``assets`` the assets it covers, in order.
    """

    run_id: int
    trained: TrainedScenarios | None
    facts: pd.DataFrame
    fans: dict[str, pd.DataFrame]
    stopped: bool = False
    card: ModelCard | None = None
    assets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.trained is not None:
            self.card, self.assets = self.trained.card, list(self.trained.model.assets)


def record_scenarios(
    workspace: Workspace,
    portfolio: Portfolio,
    spec: ScenarioSpec,
    days: int = 250,
    paths: int = 500,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ScenarioOutcome:
    """Train (or load) the scenario model on the portfolio's assets, compare it with GARCH-t, as a run.

    Stylised facts come from ``paths`` simulated paths of ``days`` days started at random real dates;
    the fan charts continue the history from its last day. A stop saves the model as trained so far and
    skips the comparison (GARCH-t, simulations, facts, report); the run ends as cancelled.
    """
    returns = portfolio.returns
    params = {**portfolio.params(), "spec": asdict(spec), "days": days, "paths": paths, "seed": seed}

    def stopping(message: str) -> bool:
        return should_stop(Progress(0, None, message), on_progress, stop)

    with workspace.start_run("risk.scenarios", params) as run:
        trained = get_scenario_model(returns, spec, workspace.root / "models", on_progress, stop)
        save_model(run.dir / "model", trained.model.net, trained.card)
        run.add_artifact("model")
        run.log_metrics(
            {**{f"card_{k}": v for k, v in trained.card.metrics.items()}, **trained.card.training}
        )
        outcome = ScenarioOutcome(run.id, trained, pd.DataFrame(), {}, stopped=True)
        if stopping("fitting GARCH-t"):
            raise RunCancelled("stopped; the model as trained so far is saved, the comparison was skipped")
        garch = GarchBaseline.fit(returns)
        values = returns.to_numpy()
        if stopping(f"simulating {paths} paths of {days} days from random real dates"):
            raise RunCancelled("stopped; the model is saved, the comparison was skipped")
        starts = random_starts(len(values) - days, paths, spec.context, seed)
        samples = {
            "generated": trained.model.generate_at(values, starts, days, seed),
            "GARCH-t": garch.generate_at(values, starts, days, seed),
        }
        if stopping("measuring the stylised facts and drawing the fan charts"):
            raise RunCancelled("stopped; the model is saved, the comparison was skipped")
        facts = stylised_facts(values, samples)
        weights = np.array([portfolio.weights[a] for a in portfolio.data.assets])
        fans = {
            "generated": fan_chart(trained.model.generate(values, days, paths, seed + 1), weights),
            "GARCH-t": fan_chart(garch.generate(values, days, paths, seed + 1), weights),
        }
        run.log_metrics(
            {f"{k}_{s}": float(facts.loc[k, s]) for k in facts.index for s in ("generated", "GARCH-t")}
        )
        _save_csv(run, "stylised_facts.csv", facts.rename_axis("key"), index=True)
        fan_table = pd.concat(fans, axis=1)
        fan_table.columns = [f"{g}_{q}" for g, q in fan_table.columns]
        _save_csv(run, "fan_chart.csv", fan_table, index=True)
        run.save_text(
            REPORT,
            html_report(
                f"Generative scenarios: {portfolio.data.source}",
                [
                    ("Stylised facts: real vs generated vs GARCH-t", facts.reset_index(drop=True)),
                    ("Fan chart", fan_figure(fans, portfolio.value)),
                    ("Model card", pd.DataFrame([{**trained.card.metrics, **trained.card.training}])),
                ],
                notes=[f"{paths} paths of {days} days from random real start dates.", *portfolio.data.notes],
            ),
        )
        outcome = ScenarioOutcome(run.id, trained, facts, fans)
    return outcome


def scenarios_job(
    workspace: Workspace,
    portfolio: Portfolio,
    spec: ScenarioSpec,
    days: int = 250,
    paths: int = 500,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ScenarioOutcome:
    """`record_scenarios` as a job: the result leaves the network out (tensors do not travel back from a
    worker process; the run's ``model`` folder has it)."""
    outcome = record_scenarios(workspace, portfolio, spec, days, paths, seed, on_progress, stop)
    return replace(outcome, trained=None)


# -- stress ---------------------------------------------------------------------------------------


@dataclass
class StressOutcome:
    run_id: int
    report: StressReport
    shock: ShockResult | None


def record_stress(
    workspace: Workspace,
    portfolio: Portfolio,
    shocks: Mapping[str, float] | None = None,
    propagate: bool = True,
) -> StressOutcome:
    """Historical replays plus optional user shocks, as a run."""
    params = {**portfolio.params(), "shocks": dict(shocks or {}), "propagate": propagate}
    with workspace.start_run("risk.stress", params) as run:
        report = replay_windows(portfolio.returns, portfolio.weights, portfolio.value)
        shock = (
            apply_shocks(portfolio.returns, shocks, portfolio.weights, portfolio.value, propagate)
            if shocks
            else None
        )
        metrics: dict[str, float | int] = {
            "windows_replayed": len(report.table),
            "windows_skipped": len(report.skipped),
        }
        if len(report.table):
            worst = report.table.loc[report.table["pnl"].idxmin()]
            metrics |= {
                "worst_window_pnl": float(worst["pnl"]),
                "worst_drawdown": float(report.table["max_drawdown"].min()),
            }
        if shock is not None:
            metrics["shock_pnl"] = shock.pnl
        run.log_metrics(metrics)
        _save_csv(run, "stress_windows.csv", report.table)
        sections: list = [("Historical windows", report.table)]
        if report.paths:
            sections.append(("Paths", stress_figure(report)))
        if report.skipped:
            sections.append(
                (
                    "Skipped",
                    pd.DataFrame({"window": list(report.skipped), "why": list(report.skipped.values())}),
                )
            )
        if shock is not None:
            _save_csv(run, "shocks.csv", shock.table)
            sections.append((f"User shocks: P&L {shock.pnl:,.0f}", shock.table))
        run.save_text(
            REPORT, html_report(f"Stress tests: {portfolio.data.source}", sections, portfolio.data.notes)
        )
    return StressOutcome(run.id, report, shock)


# -- credit ---------------------------------------------------------------------------------------


@dataclass
class CreditOutcome:
    run_id: int
    result: CreditResult


def record_credit(
    workspace: Workspace,
    data: CreditData,
    spec: CreditSpec,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> CreditOutcome | None:
    """Fit and evaluate the scorecard and gradient boosting, as a run.

    Returns:
        The outcome; None when stopped before both models were fitted (the run ends as cancelled).
    """
    params = {"data": data.source, "rows": len(data.frame), **asdict(spec)}
    with workspace.start_run("risk.credit", params) as run:
        result = fit_credit_models(data.frame, spec, on_progress, stop)
        if result is None:
            raise RunCancelled("stopped before both models were fitted; nothing to keep")
        if on_progress is not None:
            on_progress(Progress(0, None, "writing the scorecard, the scored applicants and the report"))
        test = result.metrics[result.metrics["split"] == "test"]
        run.log_metrics(
            {f"{r.model}_{m}": float(getattr(r, m)) for r in test.itertuples() for m in ("auc", "ks", "gini")}
        )
        _save_csv(run, "credit_metrics.csv", result.metrics)
        _save_csv(run, "scorecard.csv", result.points)
        _save_csv(run, "scored_applicants.csv", result.scored)
        run.save_text(
            REPORT,
            html_report(
                f"Credit scoring: {data.source}",
                [
                    ("Metrics", result.metrics),
                    ("ROC", roc_figure(result)),
                    ("Calibration", calibration_figure(result)),
                    (
                        "Information value",
                        result.information_value.rename("iv").rename_axis("feature").reset_index(),
                    ),
                    ("Scorecard", result.points),
                    ("First held-out applicants with reason codes", result.scored.head(20)),
                ],
            ),
        )
    return None if result is None else CreditOutcome(run.id, result)
