"""The strategy memo: prose from the language core around a fact table the search computed.

The model is shown the facts and asked to cite them as ``{key}`` placeholders, never as digits; the
placeholders are then filled from the table. A checker reads every number in the finished memo (dates,
percentages, ratios, counts) and accepts it only if the fact table holds it: a sentence with any other
number is removed and listed in `Memo.removed`, so no figure reaches the reader that the computation
did not produce. Without a language model the memo is written from a fixed template alone.

Example:
    >>> memo = write_memo(result, generator)
    >>> unverified_numbers(memo.markdown, memo.facts)
    []
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

from domains.finance.strategy.candidates import STRATEGY_LABELS
from domains.finance.strategy.search import SearchResult
from shared_models.exceptions import ModelError, SuiteError
from shared_models.lm import GenerationOptions, TextGenerator

__all__ = ["NOTICE", "Memo", "fact_table", "memo_html", "unverified_numbers", "write_memo"]

NOTICE = (
    "Not investment advice. This memo describes a backtest on historical data, produced automatically; "
    "past performance does not predict future results, and costs, taxes and liquidity may differ. "
    "Consult a licensed adviser before investing."
)
# A number: an ISO date, or digits with optional thousands separators, decimals, sign and percent sign.
# Digits inside names (sp500, ma_trend) are not numbers; the look-behind skips them.
NUMBER = re.compile(r"(?<![\w.])(?:\d{4}-\d{2}-\d{2}|[-+−]?\d+(?:,\d{3})*(?:\.\d+)?%?)")
PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass
class Memo:
    """A finished memo.

    Attributes:
        markdown: The memo text (Markdown).
        facts: The fact table (``key``, ``fact``, ``value``) every number was checked against.
        removed: Sentences of the model's draft dropped for numbers outside the table.
        model: Which language model wrote the prose ("template" when none did).
    """

    markdown: str
    facts: pd.DataFrame
    removed: list[str] = field(default_factory=list)
    model: str = "template"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def fact_table(result: SearchResult) -> pd.DataFrame:
    """The facts a memo may state, formatted once; the memo's numbers come from these strings only."""
    ranking = result.ranking.set_index("strategy")
    chosen = ranking.loc[result.chosen_label]
    equal = ranking[ranking["type"] == "equal_weight"].iloc[0]
    rows: list[tuple[str, str, str]] = [
        ("strategy", "Chosen strategy", result.chosen_label),
        ("strategy_type", "Strategy type", STRATEGY_LABELS[result.chosen.name]),
        ("goal", "Goal", result.spec.goal.describe()),
        ("trials", "Trials run", f"{len(result.trials)}"),
        ("validation_start", "Validation from", result.periods["validation_start"]),
        ("validation_end", "Validation to", result.periods["validation_end"]),
        ("holdout_start", "Holdout from", result.periods["holdout_start"]),
        ("holdout_end", "Holdout to", result.periods["holdout_end"]),
        ("validation_sharpe", "Validation Sharpe ratio", f"{chosen['validation_sharpe']:.2f}"),
        (
            "deflated_sharpe",
            "Deflated Sharpe ratio (probability of skill)",
            f"{result.deflated_sharpe['dsr']:.2f}",
        ),
        ("holdout_cagr", "Holdout CAGR", _pct(chosen["holdout_cagr"])),
        ("holdout_volatility", "Holdout volatility", _pct(chosen["holdout_volatility"])),
        ("holdout_sharpe", "Holdout Sharpe ratio", f"{chosen['holdout_sharpe']:.2f}"),
        ("holdout_max_drawdown", "Holdout max drawdown", _pct(chosen["holdout_max_drawdown"])),
        ("holdout_turnover", "Holdout turnover per year", f"{chosen['holdout_turnover']:.2f}"),
        ("equal_weight_sharpe", "Equal weight holdout Sharpe", f"{equal['holdout_sharpe']:.2f}"),
        (
            "equal_weight_max_drawdown",
            "Equal weight holdout max drawdown",
            _pct(equal["holdout_max_drawdown"]),
        ),
        (
            "costs_bps",
            "Costs per unit traded (bps)",
            f"{result.spec.settings.commission_bps + result.spec.settings.slippage_bps:g}",
        ),
    ]
    bench = ranking[ranking["type"] == "benchmark"]
    if len(bench):
        row = bench.iloc[0]
        rows += [
            ("benchmark", "Benchmark", str(bench.index[0])),
            ("benchmark_sharpe", "Benchmark holdout Sharpe", f"{row['holdout_sharpe']:.2f}"),
            ("benchmark_max_drawdown", "Benchmark holdout max drawdown", _pct(row["holdout_max_drawdown"])),
        ]
    return pd.DataFrame(rows, columns=["key", "fact", "value"])


def _normalise(token: str) -> str:
    token = token.replace("−", "-").replace(",", "").lstrip("+-").rstrip("%")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
        return token
    try:
        return f"{float(token):.6g}"
    except ValueError:
        return token


def _allowed(facts: pd.DataFrame) -> set[str]:
    return {_normalise(t) for value in facts["value"] for t in NUMBER.findall(str(value))}


def unverified_numbers(text: str, facts: pd.DataFrame) -> list[str]:
    """Every number in ``text`` that the fact table does not hold (signs, % and separators aside)."""
    allowed = _allowed(facts)
    return [t for t in NUMBER.findall(text) if _normalise(t) not in allowed]


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _verified_sentences(text: str, facts: pd.DataFrame) -> tuple[str, list[str]]:
    """Keep the sentences whose every number and placeholder is in the table; return the rest."""
    kept, removed = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if not sentence:
            continue
        if unverified_numbers(sentence, facts) or PLACEHOLDER.search(sentence):
            removed.append(sentence)
        else:
            kept.append(sentence)
    return " ".join(kept), removed


def _template(values: dict[str, str]) -> str:
    text = (
        "The search ran {trials} trials over strategy types and parameters, aiming for the {goal}. "
        "It chose {strategy}, which scored a Sharpe ratio of {validation_sharpe} in walk-forward validation "
        "from {validation_start} to {validation_end}. Given the number of trials, its deflated Sharpe ratio "
        "is {deflated_sharpe}: the probability that its skill is real rather than the luck of the best of "
        "many. On the holdout from {holdout_start} to {holdout_end}, which the search never saw, it returned "
        "{holdout_cagr} a year with {holdout_volatility} volatility, a Sharpe ratio of {holdout_sharpe} and "
        "a maximum drawdown of {holdout_max_drawdown}, against a Sharpe ratio of {equal_weight_sharpe} and "
        "a drawdown of {equal_weight_max_drawdown} for equal weight."
    )
    if "benchmark" in values:
        text += (
            " The benchmark ({benchmark}) had a Sharpe ratio of {benchmark_sharpe} and a maximum drawdown "
            "of {benchmark_max_drawdown}."
        )
    return _fill(text, values)


PROMPT = """You write short investment research memos for analysts.
Facts (cite each one ONLY by its placeholder in braces, exactly as written; never write digits yourself):
{facts}

Write one paragraph of three or four sentences: what the chosen strategy does, how it did on the holdout
compared with equal weight, and the main risk (drawdown, few years of data, many trials). Plain prose, no
lists, no headings, no advice to buy or sell."""


def _draft(generator: TextGenerator, facts: pd.DataFrame, seed: int, max_tokens: int) -> str:
    listing = "\n".join(f"- {{{row.key}}}: {row.fact}" for row in facts.itertuples())
    options = GenerationOptions(max_tokens=max_tokens, temperature=0.3, repeat_penalty=1.15, seed=seed)
    return generator.generate(PROMPT.format(facts=listing), options).text


def write_memo(
    result: SearchResult, generator: TextGenerator | None = None, seed: int = 0, max_tokens: int = 200
) -> Memo:
    """The memo for a search result: model prose (checked), the template summary, the fact table, the notice.

    A failing or absent model leaves the template summary alone; the memo is always complete.
    """
    facts = fact_table(result)
    values = dict(zip(facts["key"], facts["value"], strict=True))
    removed: list[str] = []
    commentary, model = "", "template"
    if generator is not None:
        try:
            draft = _fill(_draft(generator, facts, seed, max_tokens), values)
            commentary, removed = _verified_sentences(draft, facts)
            model = generator.describe()
        except SuiteError as exc:
            removed = [f"(the language model failed: {exc})"]
    table = "\n".join(
        ["| Fact | Value |", "|---|---|", *(f"| {r.fact} | {r.value} |" for r in facts.itertuples())]
    )
    parts = [f"# Strategy memo: {values['strategy']}", "## Summary", _template(values)]
    if commentary:
        parts += ["## Commentary", commentary]
    parts += ["## Fact table", table, "## Notice", NOTICE]
    markdown = "\n\n".join(parts) + "\n"
    leftover = unverified_numbers(markdown, facts)
    if leftover:  # the template and table are built from the facts; this is a bug, not a model slip
        raise ModelError(f"the memo holds numbers not in its fact table: {leftover}")
    return Memo(markdown, facts, removed, model)


def memo_html(memo: Memo) -> str:
    """A standalone HTML page of the memo (escaped; headings, paragraphs and the table)."""
    body = []
    for block in memo.markdown.strip().split("\n\n"):
        if block.startswith("## "):
            body.append(f"<h2>{html.escape(block[3:])}</h2>")
        elif block.startswith("# "):
            body.append(f"<h1>{html.escape(block[2:])}</h1>")
        elif block.startswith("| "):
            rows = [
                line.strip("|").split(" | ") for line in block.splitlines() if not line.startswith("|---")
            ]
            cells = "".join(
                "<tr>"
                + "".join(
                    f"<{'th' if i == 0 else 'td'}>{html.escape(c.strip())}</{'th' if i == 0 else 'td'}>"
                    for c in row
                )
                + "</tr>"
                for i, row in enumerate(rows)
            )
            body.append(f"<table>{cells}</table>")
        else:
            body.append(f"<p>{html.escape(block)}</p>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Strategy memo</title><style>{style}</style>"
        f"</head><body>{''.join(body)}<p><small>Prose by {html.escape(memo.model)}.</small></p></body></html>"
    )
