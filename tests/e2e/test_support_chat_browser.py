"""Support Chat in Chromium: a question answered with sources and thumbs feedback, then a handoff."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, record_latency, screenshot

LOAD_TIMEOUT_MS = 90_000
ANSWER_TIMEOUT_MS = 300_000  # one answer from the bundled model on a possibly shared machine


def test_support_chat_answers_with_citations_and_hands_over(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    from domains.services.chatbot import SupportStore
    from suite.capabilities.support_chat.runner import store_path

    open_from_menu(page, streamlit_server, "Support Chat")
    expect(page.get_by_role("heading", name="Support Chat")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    chat_box = page.get_by_test_id("stChatInputTextArea")
    expect(chat_box).to_be_visible(timeout=LOAD_TIMEOUT_MS)  # the demo help centre is indexed first
    chat_box.fill("How long do I have to return an item?")
    chat_box.press("Enter")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_text("Sources: [1]")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer = messages.nth(1)
    expect(answer).to_contain_text("[1]")
    expect(answer).to_contain_text("30 days")
    answer.get_by_test_id("stFeedbackButton").filter(has_text="thumb_up").click()
    page.wait_for_timeout(1000)

    chat_box.fill("I'd like to talk to a real person")
    chat_box.press("Enter")
    expect(page.get_by_text("Handed over to a person: ticket #1")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_text("This conversation is with our support team as ticket #1")).to_be_visible()
    page.wait_for_timeout(500)
    screenshot(page, "support_chat")

    store = SupportStore(store_path(streamlit_server.home))
    turns = store.turns()
    assert [t.route for t in turns][-1] == "handoff" and turns[0].sources[0] == "returns-policy.md"
    assert turns[0].feedback == 1
    assert store.tickets()[0].reason == "asked for a person"


def test_three_sessions_asking_at_once_all_get_answers(
    browser: Browser, streamlit_server: StreamlitServer
) -> None:
    """The model answers one question at a time: the others wait in order, told their place, never blank."""
    questions = [
        "How long does standard delivery take?",
        "How do I return an item?",
        "Can I change my delivery address?",
    ]
    pages = [browser.new_context(viewport={"width": 1200, "height": 1200}).new_page() for _ in questions]
    for page in pages:
        open_from_menu(page, streamlit_server, "Support Chat")
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    started = time.monotonic()
    for page, question in zip(pages, questions, strict=True):
        page.get_by_test_id("stChatInputTextArea").fill(question)
        page.get_by_test_id("stChatInputTextArea").press("Enter")
    for page in pages:  # at once, every bubble says something
        expect(page.get_by_test_id("stChatMessage").nth(1)).not_to_be_empty(timeout=10_000)
    for i, page in enumerate(pages):
        expect(
            page.get_by_test_id("stChatMessage").nth(1).get_by_text(re.compile(r"Confidence \d"))
        ).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        record_latency(f"support-chat: answer {i + 1} of 3 concurrent", time.monotonic() - started)
        assert page.get_by_test_id("stChatMessage").nth(1).inner_text().strip()
    for page in pages:
        page.context.close()
