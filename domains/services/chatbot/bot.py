"""The support bot: one customer message in, one checked reply out (streamed), with every rule applied.

Order of decisions for a message:

1. Limits: length cap and the session's rate limit (errors the UI shows as they are).
2. Guardrails: a message that tries to steer the assistant is declined without running any model.
3. Handoff: an explicit request for a person or an angry message opens a ticket at once.
4. Intents: a confident intent with a fixed answer gets that answer (``@handoff``: a person).
5. Retrieval: too little in the knowledge base about it is out of scope and declined politely.
6. A grounded, checked answer with citations (or a quoted passage).

Unsure replies (declined or quoted) count towards the low-confidence streak; the second in a row hands
the conversation to a person. Every turn is stored with personal data masked.

Example:
    >>> bot = SupportBot(store, "help", lm)
    >>> session = ChatSession()
    >>> reply = bot.respond(session, "How long is the warranty?")
    >>> "".join(reply)                      # streamed, checked text
    >>> reply.result.citations[0].source
    'warranty-coverage.md'
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from domains.services.chatbot.answer import (
    AnswerConfig,
    Citation,
    GroundedAnswer,
    ResultStream,
    answer_stream,
)
from domains.services.chatbot.guard import (
    GuardConfig,
    RateLimiter,
    check_message,
    classify_attack,
    leaks_prompt,
    mask_pii,
)
from domains.services.chatbot.handoff import HandoffPolicy
from domains.services.chatbot.intents import IntentClassifier, IntentPrediction
from domains.services.chatbot.kb import SupportStore
from domains.services.chatbot.retrieval import KnowledgeIndex
from shared_models.lm import TextGenerator

__all__ = ["BotConfig", "BotReply", "ChatSession", "ReplyResult", "Route", "SupportBot"]

Route = Literal["answer", "extractive", "intent", "declined", "blocked", "handoff"]
UNSURE_ROUTES = ("declined", "extractive")
HANDOFF_ACTION = "@handoff"  # an intent whose response is this hands the conversation to a person
_FOLLOW_UP = re.compile(r"\b(it|that|this|they|them|those|these|one|there|same)\b", re.IGNORECASE)


@dataclass(frozen=True)
class BotConfig:
    """How the bot behaves.

    Attributes:
        company: Named in replies and the system prompt.
        scope: What the bot helps with, for polite declines.
        retrieve_k: Chunks retrieved per question.
        out_of_scope_similarity: Top dense similarity under which a question is out of scope.
        confident_similarity: Top dense similarity under which a generated answer counts as unsure.
        history_turns: Recent turns given to the model and used to complete follow-up questions.
        handoff_message: What the customer is told when a ticket is opened ({ticket} is filled in).
    """

    company: str = "Harbor Lane Goods"
    scope: str = "orders, shipping, returns, warranty, your account and payments"
    retrieve_k: int = 5
    out_of_scope_similarity: float = 0.38
    confident_similarity: float = 0.5
    history_turns: int = 2
    handoff_message: str = (
        "I've passed our conversation to a member of the support team as ticket #{ticket}. "
        "They will reply by e-mail within one working day, and you won't need to repeat anything."
    )
    guard: GuardConfig = field(default_factory=GuardConfig)
    handoff: HandoffPolicy = field(default_factory=HandoffPolicy)
    answer: AnswerConfig = field(default_factory=AnswerConfig)


@dataclass
class ChatSession:
    """One customer's conversation state (kept by the page or the CLI, not by the bot)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    history: list[tuple[str, str]] = field(default_factory=list)  # (question, answer), masked
    low_confidence_streak: int = 0
    ticket: int | None = None


@dataclass
class ReplyResult:
    """A finished reply.

    Attributes:
        text: The reply as shown.
        route: How it was produced.
        confidence: Top dense retrieval similarity (or intent probability for intent replies).
        citations: Sources under the reply.
        intent: The recognised intent, if any.
        ticket: The escalation ticket opened by this turn, if any.
        turn_id: The stored turn (for feedback).
        reason: Why the reply was declined or handed over.
        answer: Details of a generated answer (sentences kept and removed, timings).
    """

    text: str = ""
    route: Route = "answer"
    confidence: float = 0.0
    citations: list[Citation] = field(default_factory=list)
    intent: str | None = None
    ticket: int | None = None
    turn_id: int | None = None
    reason: str = ""
    answer: GroundedAnswer | None = None


BotReply = ResultStream[ReplyResult]
"""The reply's text pieces (iterate them, e.g. with ``st.write_stream``); ``result`` once read."""


class SupportBot:
    """Answers customers from one knowledge base.

    Args:
        store: The support store (knowledge bases, turns, tickets).
        kb: The knowledge base to answer from.
        lm: The language model.
        index: A prebuilt index of ``kb`` (built from the store when None).
        intents: A trained intent classifier, optional.
        config: Behaviour settings.
        rate_limiter: Shared per-session limiter (one per process in the app).
    """

    def __init__(
        self,
        store: SupportStore,
        kb: str,
        lm: TextGenerator,
        index: KnowledgeIndex | None = None,
        intents: IntentClassifier | None = None,
        config: BotConfig | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.store, self.kb, self.lm = store, kb, lm
        self.config = config or BotConfig()
        self.index = index or KnowledgeIndex.from_store(store, kb)
        self.intents = intents
        guard = self.config.guard
        self.rate_limiter = rate_limiter or RateLimiter(guard.rate_limit_messages, guard.rate_window_s)

    def decline_text(self) -> str:
        return (
            f"Sorry, I can only help with questions about {self.config.company}: {self.config.scope}. "
            "Could you rephrase your question about one of those?"
        )

    def blocked_text(self) -> str:
        return (
            "I can't help with that request. I'm here to answer questions about "
            f"{self.config.company}: {self.config.scope}."
        )

    def respond(self, session: ChatSession, message: str) -> BotReply:
        """Reply to one message; the reply streams and is stored once fully read.

        Raises:
            InputError: The message is empty or longer than the cap.
            ResourceLimitError: The session sent too many messages too quickly.
        """
        message = check_message(message, self.config.guard)
        self.rate_limiter.check(session.id)
        result = ReplyResult()
        return BotReply(self._reply(session, message, result), result)

    def _reply(self, session: ChatSession, message: str, result: ReplyResult) -> Iterator[str]:
        attack = classify_attack(message)
        handoff = None if attack else self.config.handoff.decide(message, 0)
        if attack:
            result.route, result.reason, result.text = "blocked", f"guardrail: {attack}", self.blocked_text()
            yield result.text
        elif handoff:
            result.route = "handoff"
        else:
            yield from self._answer(session, message, result)
            # Unsure turns in a row (declined or only quoted) hand over on the configured count.
            unsure = result.route in UNSURE_ROUTES
            session.low_confidence_streak = session.low_confidence_streak + 1 if unsure else 0
            handoff = self.config.handoff.decide("", session.low_confidence_streak)
            if result.route == "handoff":
                handoff = result.reason
        if handoff:
            note = self._hand_over(session, message, handoff, result)
            yield note if result.route == "handoff" else f"\n\n{note}"
        self._store_turn(session, message, result)

    def _answer(self, session: ChatSession, message: str, result: ReplyResult) -> Iterator[str]:
        query = self._retrieval_query(session, message)
        vector = np.asarray(self.index.embed([query])[0], np.float32)
        prediction = self._intent(message, vector)
        if prediction is not None:
            result.intent = prediction.intent or None
            fixed = self.intents.response_for(prediction.intent) if self.intents else None
            result.confidence = prediction.confidence
            if fixed and fixed.strip().lower() == HANDOFF_ACTION:  # an intent routed to a person
                result.route, result.reason = "handoff", f"intent '{prediction.intent}'"
                return
            if fixed:
                result.route, result.text = "intent", fixed
                yield fixed
                return
        hits = self.index.search(query, k=self.config.retrieve_k, query_vector=vector)
        result.confidence = max((h.dense for h in hits), default=0.0)
        out_of_scope = result.confidence < self.config.out_of_scope_similarity
        if (
            prediction is not None
            and prediction.status == "out_of_scope"
            and result.confidence < (self.config.confident_similarity)
        ):
            out_of_scope = True
        if out_of_scope or not hits:
            result.route, result.reason, result.text = "declined", "out of scope", self.decline_text()
            yield result.text
            return
        stream = answer_stream(
            self.lm,
            message,
            hits,
            embedder=self.index.embed,
            company=self.config.company,
            history=session.history[-self.config.history_turns :],
            config=self.config.answer,
        )
        yield from stream
        answer = stream.result
        result.answer = answer
        result.text, result.citations = answer.text, answer.citations
        result.route = "extractive" if answer.mode == "extractive" else "answer"
        if result.route == "answer" and result.confidence < self.config.confident_similarity:
            result.reason = "low retrieval confidence"
        if leaks_prompt(result.text, self._secret()):  # belt and braces: checked sentences never should
            result.route, result.text, result.citations = "blocked", self.blocked_text(), []

    def _secret(self) -> str:
        from domains.services.chatbot.answer import system_prompt

        return system_prompt(self.config.company)

    def _intent(self, message: str, vector: np.ndarray) -> IntentPrediction | None:
        if self.intents is None:
            return None
        return self.intents.predict_one(message, vector)

    def _retrieval_query(self, session: ChatSession, message: str) -> str:
        """A short follow-up ("and for furniture?", "how much is it?") is read with the last question."""
        if session.history and (len(message.split()) <= 6 or _FOLLOW_UP.search(message)):
            return f"{session.history[-1][0]} {message}"
        return message

    def _store_turn(self, session: ChatSession, message: str, result: ReplyResult) -> None:
        question, answer = mask_pii(message), mask_pii(result.text)
        result.turn_id = self.store.add_turn(
            session.id,
            self.kb,
            question,
            answer,
            result.route,
            result.confidence,
            result.intent,
            [c.source for c in result.citations],
            ticket=result.ticket,
        )
        if result.route not in ("blocked", "handoff"):
            session.history.append((question, answer))

    def _hand_over(self, session: ChatSession, message: str, reason: str, result: ReplyResult) -> str:
        """Open a ticket with the masked conversation (once per session) and say what happens next."""
        if session.ticket is None:
            transcript = [
                {"role": role, "text": text}
                for question, answer in session.history
                for role, text in (("customer", question), ("bot", answer))
            ]
            transcript.append({"role": "customer", "text": mask_pii(message)})
            if result.text:
                transcript.append({"role": "bot", "text": mask_pii(result.text)})
            session.ticket = self.store.create_ticket(session.id, self.kb, reason, transcript)
        result.ticket, result.reason = session.ticket, reason
        note = self.config.handoff_message.format(ticket=session.ticket)
        result.text = note if result.route == "handoff" else f"{result.text}\n\n{note}"
        return note
