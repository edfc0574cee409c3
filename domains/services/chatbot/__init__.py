"""The support chatbot: grounded answers with citations, intents, handoff and guardrails.

Modules: `ingest` (files to chunks), `kb` (the SQLite support store), `retrieval` (BM25 + MiniLM with
reciprocal-rank fusion), `answer` (generation with citations and the support check), `intents`
(classifier with fallback), `handoff`, `guard` and `bot` (the conversation loop tying them together).
"""

from __future__ import annotations

from pathlib import Path

from domains.services.chatbot.answer import AnswerConfig, Citation, GroundedAnswer, answer_stream
from domains.services.chatbot.bot import BotConfig, BotReply, ChatSession, ReplyResult, SupportBot
from domains.services.chatbot.guard import GuardConfig, RateLimiter, classify_attack, mask_pii
from domains.services.chatbot.handoff import HandoffPolicy
from domains.services.chatbot.intents import IntentClassifier, IntentConfig, parse_intents_csv
from domains.services.chatbot.kb import IngestReport, SupportStore
from domains.services.chatbot.retrieval import Hit, KnowledgeIndex

__all__ = [
    "DEMO_KB_DIR",
    "DEMO_QUESTIONS",
    "AnswerConfig",
    "BotConfig",
    "BotReply",
    "ChatSession",
    "Citation",
    "GroundedAnswer",
    "GuardConfig",
    "HandoffPolicy",
    "Hit",
    "IngestReport",
    "IntentClassifier",
    "IntentConfig",
    "KnowledgeIndex",
    "RateLimiter",
    "ReplyResult",
    "SupportBot",
    "SupportStore",
    "answer_stream",
    "classify_attack",
    "mask_pii",
    "parse_intents_csv",
]

DEMO_KB_DIR = Path(__file__).resolve().parent / "demo_kb"
DEMO_QUESTIONS = Path(__file__).resolve().parent / "demo_questions.csv"
