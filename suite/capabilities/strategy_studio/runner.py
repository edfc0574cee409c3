"""Strategy Studio's recorded searches: each one is a workspace run with CSVs, the Optuna study and a memo.

The page and `aigc strategy search` call `record_search`, so a run looks alike from either: params
(universe, goal, windows, costs, constraints), metrics (the chosen strategy's holdout figures and
deflated Sharpe), artifacts (``ranking.csv``, ``trials.csv``, ``equity.csv``, ``weights.csv``,
``facts.csv``, ``memo.md``, ``memo.html``, ``study.db``).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

import pandas as pd

from domains.finance.strategy.memo import Memo, memo_html, write_memo
from domains.finance.strategy.search import SearchResult, SearchSpec, search_strategies
from domains.finance.strategy.universe import Universe, benchmark_returns, strategy_returns
from shared_models.exceptions import InputError
from shared_models.lm import LMConfig, TextGenerator, build_text_generator
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import RunCancelled, Workspace

__all__ = ["CAPABILITY", "StrategyOutcome", "curves", "record_search", "search_job"]

CAPABILITY = "strategy.search"


@dataclass
class StrategyOutcome:
    """A recorded search: its run, the result and the memo."""

    run_id: int
    result: SearchResult
    memo: Memo


def curves(result: SearchResult) -> pd.DataFrame:
    """Holdout equity curves (start = 1) of the chosen strategy, equal weight and the benchmark."""
    series = {}
    chosen = result.chosen_label
    for label, walk in result.holdout.items():
        if label == chosen or walk.config.name == "equal_weight":
            name = "chosen: " + label if label == chosen else "equal weight"
            series[name] = (1 + walk.path.returns).cumprod()
    if result.benchmark is not None:
        series[str(result.benchmark.name)] = (1 + result.benchmark).cumprod()
    return pd.DataFrame(series).rename_axis("date")


def _params(universe: Universe, spec: SearchSpec) -> dict[str, object]:
    prices = universe.prices
    return {
        "universe": universe.source,
        "assets": universe.assets,
        "benchmark": universe.benchmark,
        "first_day": f"{prices.index[0]:%Y-%m-%d}",
        "last_day": f"{prices.index[-1]:%Y-%m-%d}",
        "data_notes": universe.notes,
        "spec": asdict(spec),
    }


def record_search(
    workspace: Workspace,
    universe: Universe,
    spec: SearchSpec,
    generator: TextGenerator | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> StrategyOutcome | None:
    """Search strategies on a universe, test the best on the holdout and write the memo, as a run.

    A stopped search keeps the trials finished so far: their results and memo are saved and the run
    ends as cancelled. A search stopped before its first trial finished returns None.
    """
    outcome: StrategyOutcome | None = None
    returns = strategy_returns(universe.prices)
    benchmark = benchmark_returns(universe)
    with workspace.start_run(CAPABILITY, _params(universe, spec)) as run:
        run.dir.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(run.dir / 'study.db').resolve()}"
        try:
            result = search_strategies(
                returns,
                spec,
                benchmark,
                on_progress,
                stop,
                storage,
                scenario_store=str(workspace.root / "models"),
            )
        except InputError:
            if stop is not None and stop.is_set():  # stopped before any trial finished
                raise RunCancelled("stopped before the first trial finished; nothing to keep") from None
            raise
        run.add_artifact("study.db")
        chosen = result.ranking.iloc[0]
        run.log_metrics(
            {
                "chosen": result.chosen_label,
                "holdout_sharpe": round(float(chosen["holdout_sharpe"]), 4),
                "holdout_max_drawdown": round(float(chosen["holdout_max_drawdown"]), 4),
                "holdout_cagr": round(float(chosen["holdout_cagr"]), 4),
                "deflated_sharpe": round(result.deflated_sharpe["dsr"], 4),
                "trials": len(result.trials),
                "search_seconds": round(result.seconds, 2),
            }
        )
        # the computed results first: a stop while the model writes its commentary keeps them
        run.save_text("ranking.csv", result.ranking.to_csv(index=False))
        run.save_text("trials.csv", result.trials.to_csv(index=False))
        run.save_text("equity.csv", curves(result).to_csv())
        weights = result.holdout[result.chosen_label].path.weights
        run.save_text("weights.csv", weights.rename_axis("date").to_csv())
        if result.stopped:
            generator = None  # a stop means now: the facts-only memo takes a moment
        if on_progress is not None and generator is not None:
            done = len(result.trials)
            on_progress(Progress(done, done, "writing the memo (language model, checked against the facts)"))
        memo = write_memo(result, generator, seed=spec.seed)
        outcome = StrategyOutcome(run.id, result, memo)
        run.save_text("facts.csv", memo.facts.to_csv(index=False))
        run.save_text("memo.md", memo.markdown)
        run.save_text("memo.html", memo_html(memo))
        if result.stopped:
            raise RunCancelled(
                f"stopped after {len(result.trials)} of {spec.trials} trials; results so far saved"
            )
    return outcome


def search_job(
    workspace: Workspace,
    universe: Universe,
    spec: SearchSpec,
    lm_config: LMConfig | None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> StrategyOutcome | None:
    """`record_search` as a job: the worker loads the language model itself (None: no commentary)."""
    generator = None if lm_config is None else build_text_generator(lm_config)
    return record_search(workspace, universe, spec, generator, on_progress, stop)
