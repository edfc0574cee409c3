"""Shared pieces of the Support Chat and Support Admin pages: cached store, index, limiter, intents."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from domains.services.chatbot import IntentClassifier, KnowledgeIndex, RateLimiter, SupportStore
from suite.capabilities.support_chat.runner import ensure_demo_kb, intents_dir, load_intents, store_path
from suite.workspace import default_root

__all__ = [
    "ensure_demo",
    "get_index",
    "get_intents",
    "get_rate_limiter",
    "get_support_store",
    "render_sources",
]


@st.cache_resource(show_spinner="Opening the support store…")
def _store_at(path: str) -> SupportStore:
    return SupportStore(path)


def get_support_store() -> SupportStore:
    """The workspace's support store, opened once per process."""
    return _store_at(str(store_path(default_root())))


@st.cache_resource(show_spinner="Loading the demo help centre (first use only)…")
def _demo_ready(path: str) -> bool:
    ensure_demo_kb(_store_at(path))
    return True


def ensure_demo(store: SupportStore) -> None:
    """Ingest the bundled demo help centre into a fresh workspace, once per process and store."""
    _demo_ready(str(store.path))


@st.cache_resource(show_spinner="Indexing the knowledge base…", max_entries=16)
def _index(path: str, kb: str, revision: int) -> KnowledgeIndex:
    return KnowledgeIndex.from_store(_store_at(path), kb)


def get_index(store: SupportStore, kb: str) -> KnowledgeIndex:
    """The search index of a knowledge base, rebuilt only when its content changed."""
    return _index(str(store.path), kb, store.revision(kb))


@st.cache_resource
def get_rate_limiter() -> RateLimiter:
    """One limiter for every session of the process (a reload must not reset a session's count)."""
    return RateLimiter()


@st.cache_resource(max_entries=4)
def _intents(root: str, stamp: float) -> IntentClassifier | None:
    return load_intents(root)


def get_intents() -> IntentClassifier | None:
    """The active intent model, reloaded when a new one is trained."""
    card = intents_dir(default_root()) / "intents.json"
    return _intents(str(default_root()), card.stat().st_mtime if card.exists() else 0.0)


def render_sources(citations: list[dict[str, object]]) -> None:
    """The sources under an answer: number, article and section, with the cited passages on demand."""
    if not citations:
        return
    st.caption("Sources: " + " · ".join(f"[{c['number']}] {c['title']} – {c['heading']}" for c in citations))
    with st.expander("Cited passages", icon=":material/menu_book:"):
        for c in citations:
            st.markdown(
                f"**[{c['number']}] {c['title']}** – {c['heading']}  \n`{Path(str(c['source'])).name}`"
            )
            st.caption(str(c["excerpt"]))
