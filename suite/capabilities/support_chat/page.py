"""Support Chat: customers ask, the bot answers from the help centre with sources, or hands over."""

from __future__ import annotations

import json
from dataclasses import asdict

import streamlit as st

from domains.services.chatbot import ChatSession, SupportBot, SupportStore
from shared_models.turns import report_waits
from suite.capabilities.support_chat.views import (
    ensure_demo,
    get_index,
    get_intents,
    get_rate_limiter,
    get_support_store,
    render_sources,
)
from suite.components.feedback import user_errors
from suite.resources import get_text_generator

PAGE_ID = "support-chat"
ROUTE_NOTES = {
    "answer": "Answered from the help centre; every sentence was checked against its source.",
    "extractive": "Quoted from the help centre (the drafted answer could not be verified).",
    "intent": "Standard answer for a recognised request.",
    "declined": "Outside what this assistant covers.",
    "blocked": "Declined by the guardrails.",
    "handoff": "Handed over to a person.",
}
state = st.session_state.setdefault(PAGE_ID, {"session": ChatSession(), "messages": [], "kb": None})


def reset() -> None:
    state.update(session=ChatSession(), messages=[])


def render_message(message: dict, store: SupportStore) -> None:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])
        if message["role"] != "assistant":
            return
        render_sources(message["citations"])
        if message["ticket"]:
            st.info(
                f"Handed over to a person: ticket #{message['ticket']} ({message['reason']}).",
                icon=":material/support_agent:",
            )
        note = ROUTE_NOTES[message["route"]]
        st.caption(f"{note} Confidence {message['confidence']:.2f}.")
        vote = st.feedback("thumbs", key=f"{PAGE_ID}.feedback.{message['turn_id']}")
        if vote is not None and vote != message.get("vote"):
            store.set_feedback(message["turn_id"], 1 if vote == 1 else -1)
            message["vote"] = vote


st.title("Support Chat")
st.caption("Ask about orders, shipping, returns, warranty, your account or payments.")
with user_errors():
    store = get_support_store()
    ensure_demo(store)  # a fresh workspace can chat with the demo help centre straight away
    kbs = [kb.name for kb in store.list_kbs() if kb.chunks]
if not kbs:
    st.info("No knowledge base yet: add help articles on the Support Admin page.")
    st.stop()
left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
kb = left.selectbox(
    "Knowledge base", kbs, index=kbs.index("demo") if "demo" in kbs else 0, key=f"{PAGE_ID}.kb"
)
if kb != state["kb"]:
    state["kb"] = kb
    reset()
if middle.button("New conversation", key=f"{PAGE_ID}.new", icon=":material/restart_alt:"):
    reset()
    st.rerun()
transcript = [asdict(t) for t in store.turns(state["session"].id)]
right.download_button(
    "Transcript (JSON)",
    json.dumps(transcript, indent=2),
    file_name=f"support-{state['session'].id}.json",
    mime="application/json",
    disabled=not transcript,
    key=f"{PAGE_ID}.download",
    icon=":material/download:",
)
with user_errors():
    lm = get_text_generator()
    bot = SupportBot(
        store, kb, lm, index=get_index(store, kb), intents=get_intents(), rate_limiter=get_rate_limiter()
    )
if state["session"].ticket:
    st.warning(
        f"This conversation is with our support team as ticket #{state['session'].ticket}; "
        "an agent will reply by e-mail.",
        icon=":material/support_agent:",
    )
for message in state["messages"]:
    render_message(message, store)
if not state["messages"]:
    st.info("Try: *How long does standard delivery take?* or *I want to talk to a person*.")
prompt = st.chat_input("Type your question…", key=f"{PAGE_ID}.prompt")
if prompt:
    with user_errors():
        reply = bot.respond(state["session"], prompt)  # checks length and rate before anything shows
        st.chat_message("user").markdown(prompt)
        with st.chat_message("assistant"):
            waiting = st.empty()  # never an empty bubble: say what happens until the first words come
            waiting.caption("Looking this up in the help centre…")

            def show_place(ahead: int) -> None:
                if ahead:
                    plural = "s" if ahead > 1 else ""
                    waiting.caption(
                        f"The assistant is answering {ahead} question{plural} before yours; "
                        "yours is in the queue and starts as soon as they are done…"
                    )
                else:
                    waiting.caption("Writing the answer…")

            with report_waits(show_place):
                st.write_stream(reply)
            waiting.empty()
    result = reply.result
    state["messages"] += [
        {"role": "user", "content": prompt},
        {
            "role": "assistant",
            "content": result.text,
            "citations": [asdict(c) for c in result.citations],
            "route": result.route,
            "confidence": result.confidence,
            "ticket": result.ticket,
            "reason": result.reason,
            "turn_id": result.turn_id,
        },
    ]
    st.rerun()  # redraw with sources, feedback buttons and the handoff banner
