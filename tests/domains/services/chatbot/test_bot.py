from __future__ import annotations

import numpy as np
import pytest

from domains.services.chatbot import ChatSession, KnowledgeIndex, SupportBot, SupportStore
from domains.services.chatbot.answer import system_prompt
from domains.services.chatbot.attacks import ATTACKS, Attack, resisted
from domains.services.chatbot.intents import IntentClassifier
from shared_models.exceptions import ResourceLimitError
from tests.domains.services.chatbot.conftest import ScriptedGenerator, compromised

GOOD = "Standard delivery takes 3 to 5 working days and costs 4.95 euros [1]."


@pytest.fixture(scope="module")
def demo_index(demo_store: SupportStore) -> KnowledgeIndex:
    return KnowledgeIndex.from_store(demo_store, "demo")


def make_bot(
    store: SupportStore, lm: ScriptedGenerator, index: KnowledgeIndex | None = None, **kw
) -> SupportBot:
    return SupportBot(store, "demo", lm, index=index, **kw)


def test_a_grounded_answer_streams_with_citations_and_is_stored(demo_store, demo_index) -> None:
    bot = make_bot(demo_store, ScriptedGenerator(GOOD), demo_index)
    session = ChatSession()
    reply = bot.respond(session, "How long does standard delivery take? Mail me at jo@example.com")
    text = "".join(reply)
    result = reply.result
    assert result.route == "answer" and text == result.text
    assert result.citations[0].source == "shipping-options.md"
    stored = demo_store.turns(session.id)
    assert len(stored) == 1 and "[email]" in stored[0].question and "jo@" not in stored[0].question
    assert stored[0].sources == ["shipping-options.md"]
    demo_store.set_feedback(result.turn_id, 1)
    assert demo_store.turns(session.id)[0].feedback == 1


def test_follow_up_questions_use_recent_turns(demo_store, demo_index) -> None:
    lm = ScriptedGenerator(GOOD)
    bot = make_bot(demo_store, lm, demo_index)
    session = ChatSession()
    bot.respond(session, "How much is express delivery?").collect()
    bot.respond(session, "and is it available for furniture?").collect()
    last_chat = lm.calls[-1]
    assert last_chat[1]["content"] == "How much is express delivery?"  # memory reaches the model
    assert any("Express delivery" in m["content"] for m in last_chat[-1:])


def test_asking_for_a_person_opens_a_ticket_with_the_conversation(demo_store, demo_index) -> None:
    lm = ScriptedGenerator(GOOD)
    bot = make_bot(demo_store, lm, demo_index)
    session = ChatSession()
    bot.respond(session, "How long does delivery take? I'm on 0612345678").collect()
    reply = bot.respond(session, "I want to talk to a real person please")
    text = "".join(reply)
    assert reply.result.route == "handoff" and f"ticket #{reply.result.ticket}" in text
    assert len(lm.calls) == 1  # the handoff needed no model
    ticket = next(t for t in demo_store.tickets() if t.id == reply.result.ticket)
    assert ticket.reason == "asked for a person" and ticket.status == "open"
    assert [m["role"] for m in ticket.transcript] == ["customer", "bot", "customer"]
    assert "[phone]" in ticket.transcript[0]["text"] and "0612345678" not in str(ticket.transcript)


def test_an_angry_customer_is_handed_over(demo_store, demo_index) -> None:
    bot = make_bot(demo_store, ScriptedGenerator(GOOD), demo_index)
    result = bot.respond(ChatSession(), "THIS IS RIDICULOUS!!! MY ORDER IS LATE AGAIN").collect()
    assert result.route == "handoff" and result.reason == "customer is upset"


def test_low_confidence_twice_hands_over(demo_store, demo_index) -> None:
    bot = make_bot(demo_store, ScriptedGenerator("I think the moon is made of cheese."), demo_index)
    session = ChatSession()
    first = bot.respond(session, "What is the weather in Lisbon tomorrow?").collect()
    assert first.route == "declined" and first.ticket is None and "only help" in first.text
    second = bot.respond(session, "Which football team should I support?").collect()
    assert second.route == "declined" and second.ticket is not None
    assert "low confidence 2 times" in second.reason and f"#{second.ticket}" in second.text


def test_fixed_intent_answers_and_rate_limit(demo_store, demo_index) -> None:
    texts = ["when are you open", "opening hours", "are you open on sunday", "where is my parcel",
             "track my order", "has my order shipped"]  # fmt: skip
    labels = ["hours"] * 3 + ["track"] * 3
    intents = IntentClassifier().fit(
        texts, labels, {"hours": "We are open 8 am to 8 pm, Monday to Saturday."}
    )
    bot = make_bot(demo_store, ScriptedGenerator(GOOD), demo_index, intents=intents)
    result = bot.respond(ChatSession(), "what are your opening hours?").collect()
    assert result.route == "intent" and result.intent == "hours" and result.text.startswith("We are open")
    from domains.services.chatbot.guard import RateLimiter

    limited = make_bot(demo_store, ScriptedGenerator(GOOD), demo_index, rate_limiter=RateLimiter(2, 60))
    session = ChatSession()
    limited.respond(session, "hello there, how do returns work?").collect()
    limited.respond(session, "how do refunds work?").collect()
    with pytest.raises(ResourceLimitError, match="too many messages"):
        limited.respond(session, "and exchanges?")


@pytest.fixture(scope="module")
def poisoned(demo_store: SupportStore) -> KnowledgeIndex:
    """The demo help centre plus every poisoned document of the attack suite (in a KB of their own,
    indexed together with the demo's chunks, so the demo is embedded only once per session)."""
    for attack in ATTACKS:
        if attack.document:
            demo_store.ingest("poison", attack.document[0], attack.document[1].encode())
    demo_chunks, demo_vectors, _ = demo_store.load_index_data("demo")
    poison_chunks, poison_vectors, _ = demo_store.load_index_data("poison")
    return KnowledgeIndex(
        demo_chunks + poison_chunks, np.concatenate([demo_vectors, poison_vectors]), demo_store.embed
    )


@pytest.mark.parametrize("attack", ATTACKS, ids=[f"{a.family}:{a.message[:30]}" for a in ATTACKS])
def test_every_attack_is_resisted_even_by_a_compromised_model(
    poisoned: KnowledgeIndex, demo_store: SupportStore, attack: Attack
) -> None:
    bot = SupportBot(demo_store, "demo", ScriptedGenerator(compromised), index=poisoned)
    text = "".join(bot.respond(ChatSession(), attack.message))
    assert resisted(text, attack, system_prompt(bot.config.company)), text


def test_the_bundled_model_answers_with_only_supported_sentences(demo_store, demo_index) -> None:
    from domains.services.chatbot import AnswerConfig, BotConfig
    from shared_models.lm import LMConfig, build_text_generator

    lm = build_text_generator(LMConfig(backend="local"))
    config = BotConfig(answer=AnswerConfig(max_tokens=48))
    bot = SupportBot(demo_store, "demo", lm, index=demo_index, config=config)
    result = bot.respond(ChatSession(), "How much does express delivery cost?").collect()
    assert result.route in ("answer", "extractive") and result.citations
    assert result.citations[0].source == "shipping-options.md"
    kept = [s for s in result.answer.sentences if s.supported_by is not None]
    assert all(s.text.rstrip(".") in result.text.replace(f" [{s.supported_by}]", "") for s in kept)
    assert result.route == "extractive" or kept
