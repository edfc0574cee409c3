"""Guardrails: what the bot refuses to read as instructions, what it never says, what it never stores.

- Customer messages and documents are data. Messages that try to steer the assistant (override its
  rules, extract its prompt, make it role-play, fake a delimiter) are declined before any model runs;
  documents are quoted inside delimited blocks with delimiter look-alikes neutralised, and sentences in
  them that read as instructions are quarantined at ingestion.
- Outputs are checked for leaks of the system prompt.
- Stored transcripts have e-mail addresses, phone numbers and card numbers (Luhn-valid) masked.
- Messages have a length cap, and each session a rate limit.

Example:
    >>> mask_pii("card 4111 1111 1111 1111, mail jo@example.com")
    'card [card], mail [email]'
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Literal

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "AttackKind",
    "GuardConfig",
    "RateLimiter",
    "check_message",
    "classify_attack",
    "find_instructions",
    "leaks_prompt",
    "luhn_valid",
    "mask_pii",
    "neutralise",
    "quote_block",
]

AttackKind = Literal["injection", "prompt_extraction", "role_play", "delimiter"]

_I = re.IGNORECASE
_TARGETS = r"(instructions?|rules|prompts?|directions|guidelines|guardrails|directives|programming)"
_SECRET = r"(instructions?|prompts?|programming|directives|guardrails|configuration|guidelines)"
PATTERNS: dict[AttackKind, tuple[re.Pattern[str], ...]] = {
    "prompt_extraction": (
        re.compile(
            r"\b(reveal|show|print|repeat|recite|output|display|leak|share|dump|tell|give|write|spell|list"
            r"|translate|summari[sz]e|paraphrase|encode|what(?:'s| is| are| were))\b.{0,60}"
            r"\b(system|initial|hidden|secret|original|internal|developer|previous|above|first|your)\s+"
            + _SECRET,
            _I,
        ),
        re.compile(r"\bsystem\s*(prompt|message|instructions?)\b", _I),
        re.compile(
            r"\b(everything|all|text|words)\b.{0,30}\b(above|before this|so far)\b.{0,40}"
            r"\b(verbatim|word for word|exactly)\b",
            _I,
        ),
        re.compile(r"\bhow (were|are) you (instructed|configured|programmed|prompted)\b", _I),
    ),
    "injection": (
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass|skip|drop|abandon|neglect|break)\b.{0,40}"
            r"\b(previous|prior|above|earlier|preceding|all|any|your|the|these|those|every|former)\b.{0,30}"
            + _TARGETS,
            _I,
        ),
        re.compile(
            r"\b(new|updated|revised|real|true|additional)\s+(instructions?|rules|system prompt)\s*[:\-]", _I
        ),
        re.compile(r"\b(you must|you will|you should) (now|from now on|henceforth)\b", _I),
        re.compile(r"\bfrom now on\b.{0,40}\b(you|answer|respond|reply|say)\b", _I),
        re.compile(
            r"\b(respond|reply|answer|say|output|print|write)\b.{0,30}\b(only|exactly|verbatim)\b"
            r".{0,30}[\"'“].{1,80}[\"'”]",
            _I,
        ),
        re.compile(r"\brepeat after me\b", _I),
        re.compile(
            r"\b(instructions?|note|message) (to|for) (the )?(ai|assistant|chatbot|bot|model|llm)\b", _I
        ),
        re.compile(
            r"\b(ai|assistant|chatbot|bot|model|llm)s? (reading|processing|summari[sz]ing) this\b", _I
        ),
        re.compile(r"\bwhen (asked|answering|responding)\b.{0,60}\b(tell|say|answer|claim|reply)\b", _I),
        re.compile(r"\b(do not|don't|never) (follow|obey|apply) (your|the|any)\b", _I),
        re.compile(r"\b(no|without) (restrictions|limits|filters|rules|guidelines|censorship)\b", _I),
    ),
    "role_play": (
        re.compile(
            r"\b(you are|you're) (now|no longer|not)\b.{0,40}"
            r"\b(assistant|bot|ai|model|support|agent|dan|gpt|free)\b",
            _I,
        ),
        re.compile(r"\b(act|behave|speak|respond|answer) (as|like) (a|an|the|my|if)\b", _I),
        re.compile(r"\b(pretend|role-?play|roleplay|play the role|simulate|impersonate)\b", _I),
        re.compile(
            r"\b(dan|developer|god|admin|debug|sudo|maintenance|jailbreak|unrestricted|evil) mode\b", _I
        ),
        re.compile(r"\b(jailbreak|jailbroken|do anything now)\b", _I),
        re.compile(r"\b(fictional|in a story|write a story|a poem about your)\b", _I),
        re.compile(r"\bmy (late )?grand(ma|mother|pa|father) (used to|would)\b", _I),
    ),
    "delimiter": (
        re.compile(r"<\|[a-z_ ]*\|>", _I),
        re.compile(r"\[/?(INST|SYS|SYSTEM)\]", _I),
        re.compile(r"<<\s*/?\s*SYS\s*>>|<<<|>>>", _I),
        re.compile(r"</?\s*(system|document|passage|context|instructions?|assistant|user|admin)\s*>", _I),
        re.compile(r"^\s*#{2,}\s*(system|instruction|assistant|admin)", _I | re.MULTILINE),
        re.compile(r"^\s*(system|assistant|admin|developer)\s*:", _I | re.MULTILINE),
        re.compile(r"\b(END|BEGIN) (OF )?(PASSAGE|DOCUMENT|CONTEXT|SYSTEM|USER|CONVERSATION|PROMPT)\b"),
    ),
}


@dataclass(frozen=True)
class GuardConfig:
    """Limits on what a customer can send.

    Attributes:
        max_message_chars: Longest message accepted.
        rate_limit_messages: Messages a session may send per window.
        rate_window_s: The window, in seconds.
    """

    max_message_chars: int = 1000
    rate_limit_messages: int = 12
    rate_window_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_message_chars < 20 or self.rate_limit_messages < 1 or self.rate_window_s <= 0:
            raise InputError("guard limits must be positive (and messages at least 20 characters)")


def classify_attack(text: str) -> AttackKind | None:
    """The kind of manipulation a message attempts, or None for an ordinary message.

    Order matters only for the label: any match means the message is declined.
    """
    for kind in ("prompt_extraction", "delimiter", "injection", "role_play"):
        if any(p.search(text) for p in PATTERNS[kind]):  # type: ignore[index]
            return kind  # type: ignore[return-value]
    return None


def find_instructions(sentence: str) -> bool:
    """True when a document sentence reads as an instruction to an assistant (quarantined on ingest)."""
    return any(
        p.search(sentence) for kind in ("injection", "prompt_extraction", "delimiter") for p in PATTERNS[kind]
    )  # type: ignore[index]


def neutralise(text: str) -> str:
    """Defuse delimiter look-alikes inside quoted data, so a passage cannot close its own block."""
    text = re.sub(r"<\|", "< |", text)
    text = re.sub(r"\|>", "| >", text)
    text = text.replace("<<<", "< < <").replace(">>>", "> > >")
    return re.sub(r"\[(/?)(INST|SYS|SYSTEM)\]", r"(\1\2)", text, flags=_I)


def quote_block(label: str, text: str) -> str:
    """Quote data for a prompt inside a labelled block the model is told never to obey."""
    return f"<<<{label}>>>\n{neutralise(text.strip())}\n<<<END {label}>>>"


def leaks_prompt(output: str, secret: str, shingle_words: int = 6) -> bool:
    """True when ``output`` repeats any run of ``shingle_words`` words of ``secret`` (the system prompt)."""

    def shingles(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z0-9']+", text.lower())
        return {tuple(words[i : i + shingle_words]) for i in range(len(words) - shingle_words + 1)}

    return bool(shingles(output) & shingles(secret))


# -- personal data -------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().-]{6,}\d(?![\w])")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number passes."""
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_pii(text: str) -> str:
    """Mask e-mail addresses, Luhn-valid card numbers and phone numbers (8-15 digits)."""
    text = _EMAIL.sub("[email]", text)

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return "[card]" if luhn_valid(digits) else match.group()

    text = _CARD.sub(card, text)

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return "[phone]" if 8 <= len(digits) <= 15 else match.group()

    return _PHONE.sub(phone, text)


# -- limits --------------------------------------------------------------------------------------


def check_message(text: str, config: GuardConfig) -> str:
    """The message stripped, or `InputError` when it is empty or too long."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("the message is empty; type a question")
    if len(text) > config.max_message_chars:
        raise ResourceLimitError(
            f"the message is {len(text):,} characters; the limit is {config.max_message_chars:,}. "
            "Shorten it or split it into several questions."
        )
    return text.strip()


class RateLimiter:
    """A sliding-window limit per session, shared by all threads of the process."""

    def __init__(self, max_messages: int = 12, window_s: float = 60.0) -> None:
        self.max_messages = max_messages
        self.window_s = window_s
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def check(self, session_id: str, now: float | None = None) -> None:
        """Count one message; raises `ResourceLimitError` when the session is over its limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._times[session_id]
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= self.max_messages:
                wait = self.window_s - (now - times[0])
                raise ResourceLimitError(
                    f"too many messages: at most {self.max_messages} per {self.window_s:.0f} s. "
                    f"Try again in {wait:.0f} s."
                )
            times.append(now)
