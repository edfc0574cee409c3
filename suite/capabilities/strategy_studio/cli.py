"""`aigc strategy`: search investment strategies walk-forward and write the memo, as a workspace run.

Example:
    $ aigc strategy search --universe stocks5 --trials 200
    $ aigc strategy search --universe indices --goal risk_budget --target 0.10 --max-weight 0.6
    $ aigc strategy search --csv prices.csv --benchmark sp500 --trials 50 --no-memo
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from domains.finance.data import BUILTIN_ASSETS, PricePolicy, read_price_csv
from domains.finance.strategy.candidates import CONFIGS
from domains.finance.strategy.portfolio_backtest import BacktestSettings, Constraints
from domains.finance.strategy.search import Goal, SearchSpec
from domains.finance.strategy.universe import UNIVERSES, Universe, load_universe, universe_from_prices
from shared_models.exceptions import InputError
from shared_models.lm import build_text_generator
from suite.capabilities.strategy_studio.runner import record_search
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("strategy", help="Strategy Studio: walk-forward strategy search and memo")
    sub = parser.add_subparsers(dest="strategy_command", required=True, metavar="ACTION")
    search = sub.add_parser("search", help="search strategy types and parameters, test the best on a holdout")
    search.add_argument("--universe", choices=sorted(UNIVERSES), help="bundled universe (default stocks5)")
    search.add_argument("--csv", type=Path, help="prices CSV instead: a date column and one column per asset")
    search.add_argument(
        "--missing",
        choices=["error", "drop_rows", "forward_fill"],
        default="error",
        help="CSV policy for empty cells (default: refuse)",
    )
    search.add_argument(
        "--benchmark",
        choices=sorted(BUILTIN_ASSETS),
        help="bundled asset bought and held as benchmark for a CSV (default: equal parts held)",
    )
    search.add_argument("--trials", type=int, default=200, help="Optuna trials (default 200)")
    search.add_argument("--strategies", default=",".join(CONFIGS), help="comma-separated strategy types")
    search.add_argument("--goal", choices=["sharpe", "return_target", "risk_budget"], default="sharpe")
    search.add_argument("--target", type=float, default=0.0, help="annual return target or volatility budget")
    search.add_argument("--scheme", choices=["rolling", "expanding"], default="rolling")
    search.add_argument("--train-days", type=int, default=504, help="training window (default 504)")
    search.add_argument("--test-days", type=int, default=252, help="test window = horizon (default 252)")
    search.add_argument("--embargo-days", type=int, default=0)
    search.add_argument(
        "--holdout", type=float, default=0.3, help="share kept for the final test (default 0.3)"
    )
    search.add_argument("--commission-bps", type=float, default=5.0)
    search.add_argument("--slippage-bps", type=float, default=5.0)
    search.add_argument("--cash-rate", type=float, default=0.0, help="annual interest on cash")
    search.add_argument("--max-weight", type=float, default=1.0)
    search.add_argument("--turnover-cap", type=float, help="most value traded per rebalancing")
    search.add_argument("--allow-short", action="store_true", help="let trend and momentum rules short")
    search.add_argument(
        "--scenarios",
        choices=["generative", "garch"],
        default="generative",
        help="scenario generator of min CVaR (default: the generative path model)",
    )
    search.add_argument(
        "--scenario-steps", type=int, default=600, help="training steps of the generative model"
    )
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--no-memo", action="store_true", help="template memo only, no language model")
    search.set_defaults(handler=search_command)


def _universe(args: argparse.Namespace) -> Universe:
    if args.csv and args.universe:
        raise InputError("give either --universe or --csv, not both")
    if args.csv:
        data = read_price_csv(args.csv.read_bytes(), PricePolicy(missing=args.missing), name=args.csv.name)
        return universe_from_prices(data, args.benchmark)
    return load_universe(args.universe or "stocks5")


def search_command(args: argparse.Namespace) -> int:
    universe = _universe(args)
    settings = BacktestSettings(
        args.commission_bps,
        args.slippage_bps,
        args.cash_rate,
        Constraints(not args.allow_short, args.max_weight, args.turnover_cap),
    )
    spec = SearchSpec(
        trials=args.trials,
        strategies=tuple(s.strip() for s in args.strategies.split(",") if s.strip()),
        goal=Goal(args.goal, args.target),
        scheme=args.scheme,
        train_days=args.train_days,
        test_days=args.test_days,
        embargo_days=args.embargo_days,
        holdout=args.holdout,
        settings=settings,
        scenario_kind=args.scenarios,
        scenario_steps=args.scenario_steps,
        seed=args.seed,
    )
    generator = None if args.no_memo else build_text_generator()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = record_search(Workspace.from_env(), universe, spec, generator, progress, stop)
    progress.close()
    if outcome is None:
        print("stopped before the first trial finished; nothing was kept")
        return 130
    columns = [
        "rank",
        "strategy",
        "validation_score",
        "holdout_cagr",
        "holdout_sharpe",
        "holdout_max_drawdown",
    ]
    print(outcome.result.ranking[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    dsr = outcome.result.deflated_sharpe
    print(f"deflated Sharpe ratio of the chosen strategy: {dsr['dsr']:.3f} ({int(dsr['trials'])} trials)")
    print(f"search time: {outcome.result.seconds:.1f} s")
    print()
    print(outcome.memo.markdown)
    print(f"run {outcome.run_id}")
    return 0
