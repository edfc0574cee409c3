"""When the bot hands a conversation to a person: asked for one, an angry customer, or twice unsure.

Example:
    >>> HandoffPolicy().decide("I want to speak to a real person", low_confidence_streak=0)
    'asked for a person'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HandoffPolicy", "anger_score", "asks_for_person"]

_PERSON = re.compile(
    r"\b(speak|talk|chat|connect|transfer|put)\b.{0,30}\b(human|person|agent|someone|somebody|"
    r"representative|operator|staff|manager|supervisor|people)\b"
    r"|\b(real|live|actual)\s+(human|person|agent|people)\b"
    r"|\b(human|agent|representative|operator)\s*(please|now|!)"
    r"|^\s*(agent|human|operator|representative)\s*[.!?]*\s*$",
    re.IGNORECASE,
)
_ANGRY_WORDS = re.compile(
    r"\b(furious|angry|outraged|livid|ridiculous|unacceptable|disgusting|disgrace(ful)?|useless|"
    r"pathetic|terrible|horrible|worst|scam|fraud|rip-?off|sue|lawyer|complain(t)?|fed up|sick of|"
    r"hate|damn|wtf|joke)\b",
    re.IGNORECASE,
)


def asks_for_person(message: str) -> bool:
    """True when the customer asks for a human agent."""
    return bool(_PERSON.search(message))


def anger_score(message: str) -> float:
    """A rough 0-1 score of anger: strong words, shouting in capitals, runs of exclamation marks."""
    words = re.findall(r"[A-Za-z]{2,}", message)
    caps = sum(w.isupper() for w in words) / len(words) if len(words) >= 3 else 0.0
    strong = len(_ANGRY_WORDS.findall(message))
    bangs = len(re.findall(r"!{2,}", message)) + (message.count("!") >= 3)
    return min(1.0, 0.35 * strong + 0.6 * (caps > 0.6) + 0.25 * bangs)


@dataclass(frozen=True)
class HandoffPolicy:
    """Rules for escalating to a person.

    Attributes:
        anger_threshold: `anger_score` at or above which a message is escalated.
        low_confidence_turns: Consecutive unsure answers after which the bot hands over.
    """

    anger_threshold: float = 0.6
    low_confidence_turns: int = 2

    def decide(self, message: str, low_confidence_streak: int) -> str | None:
        """The reason to hand over, or None to keep answering.

        Args:
            message: The customer's latest message.
            low_confidence_streak: Unsure answers in a row including this one.
        """
        if asks_for_person(message):
            return "asked for a person"
        if anger_score(message) >= self.anger_threshold:
            return "customer is upset"
        if low_confidence_streak >= self.low_confidence_turns:
            return f"low confidence {low_confidence_streak} times in a row"
        return None
