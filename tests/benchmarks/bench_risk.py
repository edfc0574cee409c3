"""Risk Lab: VaR backtests on the S&P 500, the scenario generator's stylised facts, credit scoring.

- Backtests: S&P 500 1999-2018 (``arch.data``), 99 % one-day VaR, rolling 1,000-day window, parameters
  re-estimated every 20 days; every model, including the generative one trained only on the first
  1,000 days (``BENCH_RISK_SCENARIO_SECONDS``, default 120 s). Figures: exceptions, Kupiec and
  Christoffersen p-values, the last-250-day zone (in the notes), and the time of the full backtest.
- Scenarios: the generator trained on S&P 500 + NASDAQ 1999-2018 (``BENCH_RISK_SCENARIO_SECONDS``),
  500 paths of 250 days from random real dates, beside a CCC GARCH(1,1)-t simulation and the real data.
- Credit: WoE scorecard and gradient boosting, 30 % stratified held-out split, on Statlog German credit
  and Taiwan default (``../shared/data``; skipped when absent) and on the bundled modeldata credit_data.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd

from domains.finance.backtest import backtest
from domains.finance.credit import CreditSpec, fit_credit_models, load_demo_credit
from domains.finance.data import load_prices, log_returns, portfolio_returns
from domains.finance.risk import MODEL_LABELS, RISK_MODELS
from domains.finance.scenarios import (
    GarchBaseline,
    GenerativeRiskModel,
    ScenarioSpec,
    random_starts,
    stylised_facts,
    train_scenario_model,
)
from tests.benchmarks import Figure

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SCENARIO_SECONDS = float(os.environ.get("BENCH_RISK_SCENARIO_SECONDS", 120))
WINDOW = 1000
NAME = "risk"


def _backtests() -> list[Figure]:
    returns = log_returns(load_prices(["sp500"]).prices)
    series = portfolio_returns(returns)
    figures = []
    total = 0.0
    spec = ScenarioSpec(steps=None, seconds=SCENARIO_SECONDS)
    models: list[tuple[str, object, object]] = [(name, name, series) for name in RISK_MODELS]
    trained = train_scenario_model(returns.iloc[:WINDOW], spec)  # out of sample: only the first window
    models.append(("generative", GenerativeRiskModel(trained.model, paths=1000), returns))
    for name, model, data in models:
        result = backtest(data, model, level=0.99, window=WINDOW, refit_every=20)  # type: ignore[arg-type]
        total += result.seconds
        label = MODEL_LABELS[name]
        zone = f"last 250 days: {result.light.exceptions} exceptions, {result.light.zone}"
        figures += [
            Figure(
                NAME,
                f"{label}: exceptions at 99 %",
                result.exceptions,
                "days",
                f"{result.days} days, {result.days * 0.01:.0f} expected; {zone}",
            ),
            Figure(NAME, f"{label}: Kupiec POF p", result.pof.p_value, "p", f"LR {result.pof.statistic:.2f}"),
            Figure(
                NAME,
                f"{label}: Christoffersen independence p",
                result.independence.p_value,
                "p",
                f"LR {result.independence.statistic:.2f}; "
                f"cond. coverage p {result.conditional_coverage.p_value:.3f}",
            ),
        ]
    figures.append(
        Figure(
            NAME,
            "full backtest, all 6 models",
            total,
            "s",
            f"{len(series) - WINDOW} days each; excludes the generator's {SCENARIO_SECONDS:.0f} s training",
        )
    )
    return figures


def _scenarios() -> list[Figure]:
    returns = log_returns(load_prices(["sp500", "nasdaq"]).prices)
    start = time.perf_counter()
    trained = train_scenario_model(returns, ScenarioSpec(steps=None, seconds=SCENARIO_SECONDS))
    garch = GarchBaseline.fit(returns)
    values = returns.to_numpy()
    starts = random_starts(len(values) - 250, 500, 20, seed=0)
    facts = stylised_facts(
        values,
        {
            "generated": trained.model.generate_at(values, starts, 250, seed=0),
            "GARCH-t": garch.generate_at(values, starts, 250, seed=0),
        },
    )
    note = f"S&P 500 + NASDAQ; {trained.result.steps if trained.result else 0} training steps"
    figures = [
        Figure(NAME, f"scenarios: {row['fact']} [{source}]", float(row[source]), "", note)
        for _, row in facts.iterrows()
        for source in ("real", "generated", "GARCH-t")
    ]
    figures.append(
        Figure(NAME, "scenarios: train + simulate + measure", time.perf_counter() - start, "s", note)
    )
    return figures


def _german() -> pd.DataFrame | None:
    path = DATA / "german_credit" / "german.data"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, sep=r"\s+", header=None, skip_blank_lines=True)
    frame.columns = [f"A{i}" for i in range(1, 21)] + ["target"]
    return frame


def _taiwan() -> pd.DataFrame | None:
    path = DATA / "taiwan_default" / "UCI_Credit_Card.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path).drop(columns=["ID"], errors="ignore")


def _credit() -> list[Figure]:
    demo = load_demo_credit()
    sets = [
        ("modeldata credit_data", demo.frame, demo.target, demo.bad_value),
        ("German credit", _german(), "target", "2"),
        ("Taiwan default", _taiwan(), "default.payment.next.month", "1"),
    ]
    figures = []
    for name, frame, target, bad in sets:
        if frame is None:
            figures.append(Figure(NAME, f"credit {name}", float("nan"), "", "skipped: ../shared/data absent"))
            continue
        start = time.perf_counter()
        result = fit_credit_models(frame, CreditSpec(target=target, bad_value=bad, seed=0))
        seconds = time.perf_counter() - start
        for row in result.metrics.query("split == 'test'").itertuples():
            note = f"{len(frame):,} rows, 30 % held out; fit both in {seconds:.1f} s"
            figures += [
                Figure(NAME, f"credit {name}: {row.model} AUC", row.auc, "", note),
                Figure(NAME, f"credit {name}: {row.model} KS", row.ks, "", note),
            ]
    return figures


def _logged(figures: list[Figure]) -> list[Figure]:
    """Echo a finished section to stderr, so a long run shows its figures as it goes."""
    for f in figures:
        print(f"{f.figure}: {f.value:.4g} {f.unit} ({f.notes})", file=sys.stderr, flush=True)
    return figures


def run() -> list[Figure]:
    return _logged(_credit()) + _logged(_backtests()) + _logged(_scenarios())
