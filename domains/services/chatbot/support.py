"""The support check: is a sentence of a drafted answer backed by one of the retrieved passages?

A sentence is supported by a passage when it is close in meaning to one of the passage's sentences
or clauses (MiniLM cosine), every number and name in it appears in the passage, it does not flip the
polarity of the passage sentence it is closest to (embeddings barely see "used" against "unused"),
most content words of each of its clauses are in the passage (a small model copies a passage
sentence and then runs on: "..., which is why we always pay claims on time"), and it brings at most
one content word of its own: the bundled model's near copies go wrong by swapping a word ("drop the
parcel at any post office or shipping box", where the passage says parcel locker). A question is not
an answer and is dropped.

Example:
    >>> checker = SupportChecker(["Standard delivery costs 4.95 euros."], embed)
    >>> checker.check("Standard delivery costs 9.95 euros.").reason
    'number 9.95 is not in the passage'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from domains.services.chatbot.ingest import split_sentences
from domains.services.chatbot.retrieval import tokenize

__all__ = ["CheckedSentence", "SupportChecker", "clauses"]

Embedder = Callable[[Sequence[str]], np.ndarray]
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        re.findall(
            r"\w+",
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty",
        )
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90",
                      "hundred": "100", "once": "1", "twice": "2", "single": "1", "double": "2"})  # fmt: skip
_NUMBER_TOKENS = frozenset(t for word in _NUMBER_WORDS for t in tokenize(word))  # "three" -> "thre"
_ENTITY = re.compile(r"(?<!^)(?<![.!?]\s)\b([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*|[A-Z]{2,}\w*)\b")
_COMMON_CAPS = frozenset(
    re.findall(r"\w+", "I You We Our Your The This That It If Please Yes No Thanks Hello Hi")
)


@dataclass(frozen=True)
class CheckedSentence:
    """One sentence of the draft and the verdict of the support check.

    Attributes:
        text: The sentence without citation markers.
        cited: Passage numbers the model cited.
        supported_by: The passage number that supports it, or None.
        similarity: Best cosine similarity to a sentence of a candidate passage.
        reason: Why it was dropped ("" when kept).
    """

    text: str
    cited: tuple[int, ...]
    supported_by: int | None
    similarity: float
    reason: str = ""


def _numbers(text: str) -> set[str]:
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    found |= {v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", text, re.IGNORECASE)}
    return {n.rstrip(".").removesuffix(".00") for n in found}


# Units a number is read with: "3 days" is not supported by "three instalments" nor "30 days".
_UNITS = frozenset(
    re.findall(
        r"\w+", "second minute hour day working week month year euro cent percent character point instalment"
    )
)
_QUANTITY = re.compile(r"(\d+(?:[.,]\d+)*)\s+([a-z]+)")
_RANGE = re.compile(r"\b(\d+(?:[.,]\d+)*)\s+(?:and|or|to)\s+(?=(\d+(?:[.,]\d+)*)\s+([a-z]+))")


def _quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs in ``text``: "14-day window" and "fourteen days" both give ("14", "day")."""
    text = text.lower().replace("-", " ")
    for word, digits in _NUMBER_WORDS.items():
        text = re.sub(rf"\b{word}\b", digits, text)
    pairs = set()
    found = _QUANTITY.findall(text) + [(low, unit) for low, _, unit in _RANGE.findall(text)]  # "3 to 5 days"
    for number, unit in found:
        unit = unit.removesuffix("s")
        if unit in _UNITS:
            pairs.add((number.replace(",", "").rstrip(".").removesuffix(".00"), unit))
    return pairs


_NEGATIONS = frozenset(
    re.findall(r"\S+", "not no never cannot can't don't doesn't won't isn't aren't nor without")
)


def _negated(text: str) -> bool:
    return any(w in _NEGATIONS or w.endswith("n't") for w in re.findall(r"[a-z']+", text.lower()))


def _polarity_flip(sentence: str, closest: Sequence[str], passage: str) -> str:
    """Why ``sentence`` contradicts the passage sentences closest to it ("" when it does not).

    Embeddings barely see negation ("must be used" sits next to "must be unused"), so the check also
    asks that the sentence and each of its closest passage sentences (in meaning, and in words: the
    closest in meaning may be another negated sentence) are negated or not alike, and that no word
    appears where the passage only has its un- opposite.
    """
    words = re.findall(r"[a-z']+", sentence.lower())
    if any(_negated(sentence) != _negated(close) for close in closest):
        return "negation differs from the passage"
    passage_words = set(re.findall(r"[a-z']+", passage.lower()))
    for word in words:
        if len(word) >= 4 and f"un{word}" in passage_words and word not in passage_words:
            return f"says '{word}' where the passage says 'un{word}'"
    return ""


def _entities(text: str) -> set[str]:
    return {e.lower() for e in _ENTITY.findall(text) if e not in _COMMON_CAPS}


# Where a sentence splits into clauses: punctuation inside it, or a conjunction or relative pronoun.
_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s+|\s+(?=(?:and|but|or|so|which|while|because|whereas)\b)")
_MIN_CLAUSE_WORDS = 3  # shorter pieces ("or damage", "24 hours") join the clause before them


def clauses(sentence: str) -> list[str]:
    """The sentence's clauses; pieces with fewer than three content words join their neighbour.

    Example:
        >>> clauses("Refunds take 5 days, which is why we always pay claims on time.")
        ['Refunds take 5 days', 'which is why we always pay claims on time.']
    """
    out: list[str] = []
    for piece in _CLAUSE_BREAK.split(sentence):
        if not piece.strip():
            continue
        if out and (len(tokenize(piece)) < _MIN_CLAUSE_WORDS or len(tokenize(out[-1])) < _MIN_CLAUSE_WORDS):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


# Words that make one clause the cause, result or description of another: a claim of their own.
_LINKS = frozenset(re.findall(r"\w+", "so because which therefore thus hence since"))


def _link_across_sentences(sentence: str, passage_sentences: Sequence[str]) -> str:
    """Why ``sentence`` ties together facts the passage states apart ("" when it does not).

    "The shipping month is shown on the product page, so you can cancel a pre-order" joins two
    true passage sentences with a "so" the passage never says.
    """
    parts = clauses(sentence)
    for before, clause in pairwise(parts):
        first = re.match(r"\W*(\w+)", clause.lower())
        if first is None or first.group(1) not in _LINKS:
            continue
        sources = [max(passage_sentences, key=lambda s, c=c: _word_overlap(c, s)) for c in (before, clause)]
        if sources[0] != sources[1]:
            return f"links two separate passage sentences with '{first.group(1)}'"
    return ""


def _is_number(token: str) -> bool:
    return token in _NUMBER_TOKENS or bool(_NUMBER.fullmatch(token))


def _units(passage: str) -> list[str]:
    """What a sentence is compared with: the passage's sentences, then the clauses of the longer ones
    ("Outdoor furniture has a 5-year warranty" restates half of "Cookware and outdoor furniture
    have a 5-year warranty": 0.78 to the sentence, 0.93 to its clause)."""
    sentences = split_sentences(passage) or [passage]
    return sentences + [c for s in sentences if len(parts := clauses(s)) > 1 for c in parts]


def _word_overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that the passage contains (1.0 when it has none)."""
    words = set(tokenize(sentence))
    return len(words & set(tokenize(passage))) / len(words) if words else 1.0


class SupportChecker:
    """Decides whether a sentence is supported by one of the passages.

    Args:
        passages: The passages' texts, numbered from 1 in this order.
        embedder: Texts to unit vectors (MiniLM).
        min_similarity: Least cosine similarity to a sentence of the passage.
        min_words: Shorter sentences ("Sure!") cannot carry a fact and are dropped.
        allowed_names: Names that need no support (the company's own name).
        min_word_overlap: Least share of the content words (stop words dropped, lightly stemmed) of
            the sentence, and of each of its clauses, found in the passage. Embedding similarity
            alone let through paraphrases that changed the facts ("returns are free" beside "returns
            cost 4.95"): on 40 demo questions 23 % of the sentences it kept were not in their
            passage's words. Whole sentences alone let through invented tails after a copied
            clause.
        max_new_words: Most content words a sentence may bring that its passage does not have. On
            the 109 demo questions, 6 of the 8 sentences with two or more were false or garbled and
            a seventh half made up; a stronger model that paraphrases freely may be given a larger
            budget.
    """

    def __init__(
        self,
        passages: Sequence[str],
        embedder: Embedder,
        min_similarity: float = 0.8,
        min_words: int = 4,
        allowed_names: Sequence[str] = (),
        min_word_overlap: float = 0.5,
        max_new_words: int = 1,
    ) -> None:
        self.min_similarity, self.min_words = min_similarity, min_words
        self.min_word_overlap, self.max_new_words = min_word_overlap, max_new_words
        self.passages = list(passages)
        self._embedder = embedder
        self._sentences = [_units(p) for p in self.passages]
        flat = [s for group in self._sentences for s in group]
        vectors = embedder(flat) if flat else np.zeros((0, 1), np.float32)
        self._vectors, start = [], 0
        for group in self._sentences:
            self._vectors.append(np.asarray(vectors[start : start + len(group)], np.float32))
            start += len(group)
        self._allowed = {w.lower() for name in allowed_names for w in [name, *name.split()]}

    def check(self, sentence: str, cited: Sequence[int] = ()) -> CheckedSentence:
        """Check one sentence (without its markers) against the cited passages, then all passages."""
        words = sentence.split()
        if len(words) < self.min_words:
            return CheckedSentence(sentence, tuple(cited), None, 0.0, "too short to carry a fact")
        if sentence.rstrip().endswith("?"):
            return CheckedSentence(sentence, tuple(cited), None, 0.0, "a question, not an answer")
        vector = np.asarray(self._embedder([sentence])[0], np.float32)
        valid_cited = [n for n in cited if 1 <= n <= len(self.passages)]
        others = [n for n in range(1, len(self.passages) + 1) if n not in valid_cited]
        best_sim, reason = 0.0, "no passage says this"
        numbers, names = _numbers(sentence), _entities(sentence) - self._allowed
        for number in [*valid_cited, *others]:
            passage = self.passages[number - 1]
            if not len(self._vectors[number - 1]):
                continue
            sims = self._vectors[number - 1] @ vector
            sim = float(sims.max())
            best_sim = max(best_sim, sim)
            if sim < self.min_similarity:
                continue
            group = self._sentences[number - 1]
            by_words = max(group, key=lambda s: _word_overlap(sentence, s))
            flipped = _polarity_flip(sentence, [group[int(sims.argmax())], by_words], passage)
            if flipped:
                reason = flipped
                continue
            missing_numbers = numbers - _numbers(passage)
            if missing_numbers:
                reason = f"number {sorted(missing_numbers)[0]} is not in the passage"
                continue
            missing_quantities = _quantities(sentence) - _quantities(passage)
            if missing_quantities:
                reason = "'{} {}' is not in the passage".format(*sorted(missing_quantities)[0])
                continue
            lower = passage.lower()
            missing_names = [n for n in names if n not in lower]
            if missing_names:
                reason = f"'{missing_names[0]}' is not in the passage"
                continue
            overlap = _word_overlap(sentence, passage)
            if overlap < self.min_word_overlap:
                reason = f"only {overlap:.0%} of its words are in the passage"
                continue
            unsupported = [c for c in clauses(sentence) if _word_overlap(c, passage) < self.min_word_overlap]
            if unsupported:
                reason = f"the passage does not say '{unsupported[0].strip(' .')}'"
                continue
            link = _link_across_sentences(sentence, split_sentences(passage) or [passage])
            if link:
                reason = link
                continue
            new_words = sorted(  # numbers and negations were checked above
                w
                for w in set(tokenize(sentence)) - set(tokenize(passage))
                if not _is_number(w) and w not in _NEGATIONS
            )
            if len(new_words) > self.max_new_words:
                reason = f"words not in the passage: {', '.join(new_words)}"
                continue
            return CheckedSentence(sentence, tuple(cited), number, sim)
        if best_sim < self.min_similarity:
            reason = f"no passage says this (best similarity {best_sim:.2f})"
        return CheckedSentence(sentence, tuple(cited), None, best_sim, reason)
