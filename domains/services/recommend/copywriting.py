"""Personalised copy: a short pitch per recommended item, written by the language core.

The model gets the item's metadata and the titles of the user's items that led to it, and is asked to
use nothing else. Small models invent anyway, so every sentence is checked: one holding a number or a
capitalised name that appears in none of the facts given is removed and reported. If nothing
survives, the pitch falls back to a plain sentence built from the metadata (and says so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from domains.services.recommend.explain import RecommendedItem
from shared_models.lm import GenerationOptions, TextGenerator

__all__ = ["Pitch", "check_facts", "write_pitch"]

SYSTEM = (
    "You write short, warm recommendation copy for a customer. Use ONLY the facts given: the title, "
    "the categories, the description and the customer's liked titles. Never invent names, people, "
    "places, years, prices, awards or numbers. Two sentences at most."
)
# Capitalised words that are not names (sentence openers, pronouns, common adjectives in copy).
COMMON_CAPITALISED = {
    "i",
    "you",
    "your",
    "if",
    "this",
    "that",
    "it",
    "its",
    "a",
    "an",
    "the",
    "and",
    "but",
    "so",
    "with",
    "for",
    "fans",
    "fan",
    "here",
    "there",
    "we",
    "our",
    "don't",
    "why",
    "what",
    "enjoy",
    "discover",
    "try",
    "check",
    "watch",
    "love",
    "loved",
    "since",
    "as",
    "because",
    "like",
    "get",
    "ready",
    "perfect",
    "looking",
    "meet",
    "join",
    "dive",
    "experience",
    "then",
    "now",
    "just",
}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass
class Pitch:
    """A checked pitch.

    Attributes:
        text: The copy shown to the customer (only sentences that passed the check).
        removed: Sentences dropped for naming a number or a name not in the facts.
        fallback: True when no generated sentence passed and the text was built from metadata.
    """

    text: str
    removed: list[str] = field(default_factory=list)
    fallback: bool = False


def _vocabulary(facts: Sequence[str]) -> tuple[set[str], set[str]]:
    text = " ".join(facts)
    words = {w.lower() for w in WORD.findall(text)}
    return words, set(NUMBER.findall(text))


def check_facts(text: str, facts: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``text`` into sentences kept and sentences removed.

    A sentence is removed when it holds a number that is not in ``facts``, or a capitalised word
    (other than the sentence's first word and common words) that is not in ``facts``.
    """
    words, numbers = _vocabulary(facts)
    kept, removed = [], []
    for sentence in (s.strip() for s in SENTENCE_END.split(text.strip())):
        if not sentence:
            continue
        bad_number = any(n not in numbers for n in NUMBER.findall(sentence))
        tokens = WORD.findall(sentence)
        names = [t for t in tokens[1:] if t[0].isupper()]
        bad_name = any(t.lower() not in words and t.lower() not in COMMON_CAPITALISED for t in names)
        (removed if bad_number or bad_name else kept).append(sentence)
    return kept, removed


def _fallback(item: RecommendedItem, liked: Sequence[str]) -> str:
    categories = item.categories.replace("|", ", ")
    text = f"{item.title}" + (f": {categories}." if categories else ".")
    if liked:
        text += f" Picked for you because you liked {liked[0]}."
    return text


def write_pitch(
    lm: TextGenerator,
    item: RecommendedItem,
    description: str = "",
    options: GenerationOptions | None = None,
) -> Pitch:
    """Write and check a pitch for one recommended item.

    Args:
        lm: The language core (local SmolLM2 by default, or any configured backend).
        item: The recommendation, with its reasons (the user's items that led to it).
        description: Optional item text from the metadata.
        options: Sampling options (default: 80 tokens, temperature 0.7, seed 0).

    Returns:
        A `Pitch` whose sentences name only numbers and names found in the metadata.
    """
    liked = [r.title for r in item.reasons]
    categories = item.categories.replace("|", ", ")
    facts = [item.title, categories, description, *liked]
    prompt = (
        f"Title: {item.title}\nCategories: {categories or 'unknown'}\n"
        + (f"Description: {description}\n" if description else "")
        + (f"The customer liked: {'; '.join(liked)}\n" if liked else "")
        + "Write a two-sentence pitch telling the customer why they will enjoy this title."
    )
    options = options or GenerationOptions(max_tokens=80, temperature=0.7, seed=0)
    text = lm.generate(prompt, options, system=SYSTEM).text
    kept, removed = check_facts(text, facts)
    if not kept:
        return Pitch(_fallback(item, liked), removed, fallback=True)
    return Pitch(" ".join(kept), removed)
