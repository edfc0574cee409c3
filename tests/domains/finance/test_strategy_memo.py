"""The strategy memo: every number in it comes from the fact table; anything else is caught."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from domains.finance.strategy.memo import NOTICE, fact_table, memo_html, unverified_numbers, write_memo
from domains.finance.strategy.search import SearchResult, SearchSpec, search_strategies
from shared_models.lm import LMConfig, build_text_generator
from tests.domains.finance.strategy_fixtures import synthetic_returns


@pytest.fixture(scope="module")
def result() -> SearchResult:
    spec = SearchSpec(
        trials=6,
        strategies=("equal_weight", "momentum", "vol_target"),
        train_days=250,
        test_days=126,
        holdout=0.35,
        top=2,
        seed=1,
    )
    return search_strategies(synthetic_returns(days=900, assets=3, seed=5), spec)


@dataclass
class _Reply:
    text: str


class ScriptedGenerator:
    """Stands in for the language core with a fixed draft (the real model is tested below)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def generate(self, prompt: str, options: object = None, *, system: str | None = None) -> _Reply:
        assert "{holdout_sharpe}" in prompt  # the model is shown placeholders, not digits to copy
        return _Reply(self.text)

    def describe(self) -> str:
        return "scripted"


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)  # bare digits: dates split into parts


def test_checker_flags_numbers_outside_the_table(result: SearchResult) -> None:
    facts = fact_table(result)
    sharpe = facts.set_index("key").loc["holdout_sharpe", "value"]
    assert unverified_numbers(f"The holdout Sharpe ratio was {sharpe}.", facts) == []
    assert unverified_numbers("It will return 42.5% next year, 17.25 times the index.", facts) == [
        "42.5%",
        "17.25",
    ]
    assert unverified_numbers("Tickers like sp500 are names, not figures.", facts) == []


def test_memo_fills_placeholders_and_drops_sentences_with_invented_numbers(result: SearchResult) -> None:
    draft = (
        "The strategy earned a Sharpe ratio of {holdout_sharpe} on the holdout. "
        "It will surely return 42.5% next year. Its drawdown reached {holdout_max_drawdown}. "
        "Our {made_up_fact} is great."
    )
    memo = write_memo(result, ScriptedGenerator(draft))  # type: ignore[arg-type]
    facts = memo.facts.set_index("key")["value"]
    assert f"Sharpe ratio of {facts['holdout_sharpe']} on the holdout." in memo.markdown
    assert "42.5" not in memo.markdown and "made_up_fact" not in memo.markdown
    assert len(memo.removed) == 2
    assert unverified_numbers(memo.markdown, memo.facts) == []
    allowed = set(_numbers(" ".join(memo.facts["value"])))
    assert all(n in allowed for n in _numbers(memo.markdown))  # an independent parse agrees
    assert NOTICE in memo.markdown and "Not investment advice" in memo_html(memo)


def test_memo_without_a_model_is_complete(result: SearchResult) -> None:
    memo = write_memo(result, None)
    assert memo.model == "template" and "## Fact table" in memo.markdown
    assert result.chosen_label in memo.markdown
    assert unverified_numbers(memo.markdown, memo.facts) == []


def test_memo_from_the_local_language_model_holds_only_table_numbers(result: SearchResult) -> None:
    generator = build_text_generator(LMConfig(backend="local", engine="llama_cpp", n_ctx=2048, n_threads=2))
    memo = write_memo(result, generator, seed=0, max_tokens=40)  # short: the machine is small and shared
    assert "SmolLM2" in memo.model
    assert unverified_numbers(memo.markdown, memo.facts) == []
    assert all(n in set(_numbers(" ".join(memo.facts["value"]))) for n in _numbers(memo.markdown))
