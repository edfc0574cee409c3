"""`aigc risk`: VaR/ES, backtests, generative scenarios, stress tests and credit scoring as runs.

Example:
    $ aigc risk var --asset sp500 --level 0.99
    $ aigc risk backtest --asset sp500 --models historical,ewma,fhs_garch
    $ aigc risk scenarios --asset sp500 --asset nasdaq --seconds 60
    $ aigc risk stress --asset sp500 --asset nasdaq --shock sp500=-0.2
    $ aigc risk credit
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from domains.finance.credit import CreditSpec, load_demo_credit, read_credit_csv
from domains.finance.data import BUILTIN_ASSETS, PricePolicy, load_prices, read_price_csv
from domains.finance.risk import MODEL_LABELS, RISK_MODELS
from domains.finance.scenarios import ScenarioSpec
from shared_models.exceptions import InputError
from suite.capabilities.risk_lab.runner import (
    Portfolio,
    record_backtest,
    record_credit,
    record_scenarios,
    record_stress,
    record_var,
)
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]


def _market_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--asset",
        action="append",
        choices=sorted(BUILTIN_ASSETS),
        metavar="NAME",
        help=f"bundled asset (repeat for a portfolio): {', '.join(sorted(BUILTIN_ASSETS))}",
    )
    parser.add_argument("--csv", type=Path, help="prices CSV instead: a date column and one column per asset")
    parser.add_argument(
        "--missing",
        choices=["error", "drop_rows", "forward_fill"],
        default="error",
        help="CSV policy for empty cells (default: refuse)",
    )
    parser.add_argument(
        "--non-positive",
        choices=["error", "drop_rows"],
        default="error",
        help="CSV policy for prices <= 0 (default: refuse)",
    )
    parser.add_argument(
        "--gaps",
        choices=["error", "allow"],
        default="error",
        help="CSV policy for gaps over 10 calendar days (default: refuse)",
    )
    parser.add_argument("--start", help="first date (YYYY-MM-DD), bundled assets only")
    parser.add_argument("--end", help="last date (YYYY-MM-DD), bundled assets only")
    parser.add_argument("--weights", help="comma-separated weights in asset order (default equal)")
    parser.add_argument(
        "--value", type=float, default=1_000_000.0, help="portfolio value (default 1,000,000)"
    )


def register(commands: Any) -> None:
    parser = commands.add_parser("risk", help="Risk Lab: VaR/ES, backtests, scenarios, stress tests, credit")
    sub = parser.add_subparsers(dest="risk_command", required=True, metavar="ACTION")

    var = sub.add_parser("var", help="VaR and ES by model, level and horizon")
    _market_arguments(var)
    var.add_argument(
        "--level", type=float, action="append", help="confidence level (repeatable; default 0.95 0.99)"
    )
    var.add_argument("--horizon", type=int, action="append", help="days (repeatable; default 1 and 10)")
    var.add_argument("--models", default=",".join(RISK_MODELS), help="comma-separated risk models")
    var.add_argument("--window", type=int, default=1000, help="estimation window in days (default 1000)")
    var.set_defaults(handler=var_command)

    test = sub.add_parser(
        "backtest", help="rolling out-of-sample VaR backtest with Kupiec/Christoffersen/traffic light"
    )
    _market_arguments(test)
    test.add_argument("--level", type=float, default=0.99)
    test.add_argument(
        "--models",
        default="historical,normal,student_t,ewma,fhs_garch",
        help=f"comma-separated, from: {', '.join(MODEL_LABELS)}",
    )
    test.add_argument("--window", type=int, default=1000)
    test.add_argument("--refit-every", type=int, default=20, help="days between parameter re-estimations")
    test.add_argument("--scenario-seconds", type=float, default=60.0, help="training budget of 'generative'")
    test.set_defaults(handler=backtest_command)

    scen = sub.add_parser("scenarios", help="train the generative scenario model; stylised facts vs GARCH-t")
    _market_arguments(scen)
    scen.add_argument("--seconds", type=float, help="training budget in seconds (default: --steps)")
    scen.add_argument("--steps", type=int, default=3000)
    scen.add_argument("--days", type=int, default=250, help="path length (default 250)")
    scen.add_argument("--paths", type=int, default=500)
    scen.add_argument("--seed", type=int, default=0)
    scen.set_defaults(handler=scenarios_command)

    stress = sub.add_parser("stress", help="historical crisis replays and user shocks")
    _market_arguments(stress)
    stress.add_argument(
        "--shock",
        action="append",
        default=[],
        metavar="ASSET=RETURN",
        help="instantaneous shock, e.g. sp500=-0.2 (repeatable)",
    )
    stress.add_argument("--no-propagate", action="store_true", help="leave unshocked assets unchanged")
    stress.set_defaults(handler=stress_command)

    credit = sub.add_parser("credit", help="WoE scorecard and gradient boosting (demo data by default)")
    credit.add_argument("--csv", type=Path, help="applicants CSV with a target column")
    credit.add_argument("--target", help="target column (required with --csv)")
    credit.add_argument("--bad-value", help="target value meaning default (0/1 targets: 1)")
    credit.add_argument("--seed", type=int, default=0)
    credit.set_defaults(handler=credit_command)


def _portfolio(args: argparse.Namespace) -> Portfolio:
    if args.csv and args.asset:
        raise InputError("give either --asset or --csv, not both")
    if args.csv:
        policy = PricePolicy(missing=args.missing, non_positive=args.non_positive, gaps=args.gaps)
        data = read_price_csv(args.csv.read_bytes(), policy, name=args.csv.name)
    else:
        data = load_prices(args.asset or ["sp500"], args.start, args.end)
    weights = None
    if args.weights:
        try:
            values = [float(w) for w in args.weights.split(",")]
        except ValueError as exc:
            raise InputError(f"--weights must be numbers separated by commas, got {args.weights!r}") from exc
        if len(values) != len(data.assets):
            raise InputError(f"{len(values)} weights for {len(data.assets)} assets {data.assets}")
        weights = dict(zip(data.assets, values, strict=True))
    return Portfolio(data, weights or {}, args.value)


def _print_table(frame: pd.DataFrame) -> None:
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def var_command(args: argparse.Namespace) -> int:
    portfolio = _portfolio(args)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    outcome = record_var(
        Workspace.from_env(),
        portfolio,
        models,
        args.level or [0.95, 0.99],
        args.horizon or [1, 10],
        args.window,
    )
    _print_table(outcome.table.drop(columns=["label"]))
    print(f"run {outcome.run_id}")
    return 0


def backtest_command(args: argparse.Namespace) -> int:
    portfolio = _portfolio(args)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = record_backtest(
            Workspace.from_env(),
            portfolio,
            models,
            args.level,
            args.window,
            args.refit_every,
            args.scenario_seconds,
            progress,
            stop,
        )
    progress.close()
    _print_table(outcome.summary)
    print(f"run {outcome.run_id}")
    return 0


def scenarios_command(args: argparse.Namespace) -> int:
    portfolio = _portfolio(args)
    spec = ScenarioSpec(steps=None if args.seconds else args.steps, seconds=args.seconds, seed=args.seed)
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = record_scenarios(
            Workspace.from_env(), portfolio, spec, args.days, args.paths, args.seed, progress, stop
        )
    progress.close()
    _print_table(outcome.facts)
    print(f"run {outcome.run_id}")
    return 0


def _parse_shocks(items: list[str]) -> dict[str, float]:
    shocks = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            shocks[name.strip()] = float(value)
        except ValueError as exc:
            raise InputError(f"--shock must look like sp500=-0.2, got {item!r}") from exc
    return shocks


def stress_command(args: argparse.Namespace) -> int:
    portfolio = _portfolio(args)
    outcome = record_stress(Workspace.from_env(), portfolio, _parse_shocks(args.shock), not args.no_propagate)
    _print_table(outcome.report.table)
    for name, why in outcome.report.skipped.items():
        print(f"skipped {name}: {why}")
    if outcome.shock is not None:
        _print_table(outcome.shock.table)
        print(f"shock P&L: {outcome.shock.pnl:,.0f}")
    print(f"run {outcome.run_id}")
    return 0


def credit_command(args: argparse.Namespace) -> int:
    if args.csv:
        if not args.target:
            raise InputError("--target is required with --csv")
        data = read_credit_csv(args.csv.read_bytes(), args.target, args.bad_value, name=args.csv.name)
    else:
        data = load_demo_credit()
    outcome = record_credit(
        Workspace.from_env(), data, CreditSpec(target=data.target, bad_value=data.bad_value, seed=args.seed)
    )
    _print_table(outcome.result.metrics)
    print(json.dumps({"run_id": outcome.run_id}))
    return 0
