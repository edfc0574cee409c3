"""Support Admin: knowledge bases, intents, unanswered questions, feedback and escalation tickets."""

from __future__ import annotations

import json

import pandas as pd
import plotly.express as px
import streamlit as st

from domains.services.chatbot import BotConfig, SupportStore
from domains.services.chatbot.ingest import MAX_FILE_BYTES, SUPPORTED_SUFFIXES
from suite.capabilities.support_chat.runner import ingest_and_record, train_intents_and_record
from suite.capabilities.support_chat.views import get_intents, get_support_store
from suite.components.feedback import user_errors
from suite.resources import get_workspace

PAGE_ID = "support-admin"
state = st.session_state.setdefault(PAGE_ID, {"ingest": None, "intents": None, "uploads": 0})


def knowledge_tab(store: SupportStore) -> None:
    left, right = st.columns([1, 2])
    with left.form(f"{PAGE_ID}.ingest_form", clear_on_submit=True, border=True):
        kb = st.text_input("Knowledge base", "demo", key=f"{PAGE_ID}.kb_name")
        files = st.file_uploader(
            f"Help articles ({', '.join(SUPPORTED_SUFFIXES)}; FAQ CSV: question,answer)",
            type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
            accept_multiple_files=True,
            key=f"{PAGE_ID}.files",
        )
        submitted = st.form_submit_button("Ingest", icon=":material/upload:")
    if submitted:
        too_big = [f.name for f in files or [] if f.size > MAX_FILE_BYTES]
        with user_errors():
            if too_big:
                st.error(f"Too large (limit {MAX_FILE_BYTES / 1e6:.0f} MB): {', '.join(too_big)}")
            payload = [(f.name, f.getvalue()) for f in files or [] if f.name not in too_big]
            state["ingest"] = ingest_and_record(get_workspace(), store, kb, payload).rows()
    if state["ingest"]:
        left.dataframe(pd.DataFrame(state["ingest"]), hide_index=True, key=f"{PAGE_ID}.ingest_table")
    kbs = store.list_kbs()
    right.dataframe(pd.DataFrame([kb.__dict__ for kb in kbs]), hide_index=True, key=f"{PAGE_ID}.kbs_table")
    if not kbs:
        return
    chosen = right.selectbox("Knowledge base to inspect", [k.name for k in kbs], key=f"{PAGE_ID}.inspect")
    documents = store.documents(chosen)
    right.dataframe(pd.DataFrame(documents), hide_index=True, key=f"{PAGE_ID}.docs_table")
    a, b = right.columns(2)
    source = a.selectbox("File", [d["source"] for d in documents], key=f"{PAGE_ID}.doc")
    if a.button("Delete file", key=f"{PAGE_ID}.delete_doc", icon=":material/delete:", disabled=not source):
        removed = store.delete_document(chosen, source)
        st.toast(f"Removed {source} ({removed} chunks)")
        st.rerun()
    sure = b.checkbox(f"Yes, delete all of '{chosen}'", key=f"{PAGE_ID}.sure")
    if b.button(
        "Delete knowledge base",
        key=f"{PAGE_ID}.delete_kb",
        disabled=not sure,
        icon=":material/delete_forever:",
    ):
        store.delete_kb(chosen)
        st.rerun()


def intents_tab() -> None:
    upload = st.file_uploader(
        "Intents CSV (columns text,intent and optionally response: a fixed answer, or @handoff)",
        type=["csv"],
        key=f"{PAGE_ID}.intents_file",
    )
    if st.button("Train", key=f"{PAGE_ID}.train", disabled=upload is None, icon=":material/model_training:"):
        with user_errors(), st.spinner("Embedding examples and training…"):
            outcome = train_intents_and_record(get_workspace(), upload.getvalue(), upload.name)
            state["intents"] = {
                "run": outcome.run_id,
                "intents": outcome.intents,
                "examples": outcome.examples,
                "report": None
                if outcome.report is None
                else {
                    "accuracy": outcome.report.accuracy,
                    "labels": outcome.report.labels,
                    "confusion": outcome.report.confusion.tolist(),
                    "n_test": outcome.report.n_test,
                    "train_seconds": outcome.report.train_seconds,
                },
                "csv": outcome.confusion_csv(),
            }
    trained = state["intents"]
    model = get_intents()
    if model is None and trained is None:
        st.info("No intent model yet. Upload examples to route common requests to fixed answers.")
        return
    if trained:
        report = trained["report"]
        cols = st.columns(3)
        cols[0].metric("Intents", trained["intents"])
        cols[1].metric("Examples", trained["examples"])
        cols[2].metric("Held-out accuracy", f"{report['accuracy']:.1%}" if report else "–")
        if report:
            matrix = pd.DataFrame(report["confusion"], index=report["labels"], columns=report["labels"])
            figure = px.imshow(matrix, text_auto=True, color_continuous_scale="Blues", aspect="auto")
            figure.update_layout(xaxis_title="predicted", yaxis_title="true", height=420)
            st.plotly_chart(figure, key=f"{PAGE_ID}.confusion")
            st.download_button(
                "Confusion matrix (CSV)", trained["csv"], "confusion.csv", key=f"{PAGE_ID}.cm_csv"
            )
    if model is not None:
        text = st.text_input("Try a message", key=f"{PAGE_ID}.try")
        if text.strip():
            p = model.predict_one(text)
            st.write(
                f"**{p.candidate}** ({p.status}, probability {p.confidence:.2f}, "
                f"similarity {p.similarity:.2f})"
            )


def questions_tab(store: SupportStore) -> None:
    threshold = BotConfig().confident_similarity
    turns = [
        t
        for t in store.turns(limit=2000)
        if t.route in ("declined", "extractive") or t.confidence < threshold
    ]
    if not turns:
        st.info("No unanswered or low-confidence questions yet.")
        return
    frame = pd.DataFrame(
        [{"when": t.created, "kb": t.kb, "question": t.question, "route": t.route,
          "confidence": round(t.confidence, 3), "feedback": t.feedback} for t in turns]
    )  # fmt: skip
    st.dataframe(frame, hide_index=True, key=f"{PAGE_ID}.questions")
    st.download_button("Questions (CSV)", frame.to_csv(index=False), "questions.csv", key=f"{PAGE_ID}.q_csv")


def feedback_tab(store: SupportStore) -> None:
    stats = store.feedback_stats()
    cols = st.columns(5)
    for col, (label, key) in zip(
        cols,
        [("Turns", "turns"), ("Helpful", "helpful"), ("Not helpful", "not_helpful"),
         ("Unanswered", "unanswered"), ("Handed off", "handed_off")],
        strict=True,
    ):  # fmt: skip
        col.metric(label, stats[key])
    tickets = store.tickets()
    if not tickets:
        st.info("No tickets yet: they appear when the bot hands a conversation to a person.")
        return
    frame = pd.DataFrame([{k: v for k, v in t.__dict__.items() if k != "transcript"} for t in tickets])
    st.dataframe(frame, hide_index=True, key=f"{PAGE_ID}.tickets")
    chosen = st.selectbox("Ticket", [t.id for t in tickets], key=f"{PAGE_ID}.ticket")
    ticket = next(t for t in tickets if t.id == chosen)
    for line in ticket.transcript:
        st.markdown(f"**{line['role']}:** {line['text']}")
    a, b = st.columns(2)
    if a.button("Close ticket", key=f"{PAGE_ID}.close", disabled=ticket.status == "closed"):
        store.close_ticket(ticket.id)
        st.rerun()
    b.download_button(
        "Tickets (JSON)",
        json.dumps([t.__dict__ for t in tickets], indent=2),
        "tickets.json",
        key=f"{PAGE_ID}.tickets_json",
    )


st.title("Support Admin")
st.caption("Help content, intents and what customers asked: the chatbot's back office.")
with user_errors():
    support_store = get_support_store()
tabs = st.tabs(["Knowledge bases", "Intents", "Unanswered questions", "Feedback & tickets"])
with tabs[0]:
    knowledge_tab(support_store)
with tabs[1]:
    intents_tab()
with tabs[2]:
    questions_tab(support_store)
with tabs[3]:
    feedback_tab(support_store)
