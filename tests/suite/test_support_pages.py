"""AppTests of Support Chat (a conversation with citations, then a handoff) and Support Admin (ingest,
bad files, intents training, tickets), run from the app's entrypoint with the bundled language model."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.services.chatbot import SupportStore
from suite.capabilities.support_chat.runner import intents_dir, store_path
from suite.workspace import Workspace

CHAT = "capabilities/support_chat/page.py"
ADMIN = "capabilities/support_admin/page.py"


@pytest.fixture(autouse=True)
def _bundled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIGC_LLM_BASE_URL", "AIGC_LLM_BACKEND", "AIGC_LLM_GGUF", "AIGC_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_chat_answers_with_sources_then_hands_over(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(CHAT)
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Support Chat"
    # One answer from the bundled model: generous timeout, the machine may be shared.
    app.chat_input(key="support-chat.prompt").set_value("How much does express delivery cost?").run(
        timeout=300
    )
    assert not app.exception, app.exception
    assert len(app.chat_message) == 2
    answer = app.chat_message[1]
    sources = [c.value for c in answer.caption if c.value.startswith("Sources:")]
    assert sources and "Shipping options and delivery times" in sources[0]
    assert "[1]" in answer.markdown[0].value

    app.chat_input(key="support-chat.prompt").set_value("Can I speak to a human agent please?").run()
    assert not app.exception, app.exception
    assert any("ticket #1" in i.value for i in app.info)
    store = SupportStore(store_path(aigc_home))
    tickets = store.tickets()
    assert len(tickets) == 1 and tickets[0].reason == "asked for a person"
    assert tickets[0].transcript[0]["text"] == "How much does express delivery cost?"
    assert [t.route for t in store.turns()][-1] == "handoff"


def test_admin_ingests_files_refuses_bad_ones_and_trains_intents(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(ADMIN)
    app.run()
    assert not app.exception, app.exception
    app.text_input(key="support-admin.kb_name").set_value("acme")
    app.file_uploader(key="support-admin.files").set_value(
        [
            ("hours.md", b"# Opening hours\n\n## Shop\nThe shop opens at 9 am.", "text/markdown"),
            ("broken.pdf", b"%PDF-1.4 nonsense", "application/pdf"),
        ]
    )
    app.button(key="FormSubmitter:support-admin.ingest_form-Ingest").click().run()
    assert not app.exception, app.exception
    report = next(d.value for d in app.dataframe if "problem" in d.value.columns)
    assert dict(zip(report["file"], report["status"], strict=True)) == {
        "hours.md": "ingested",
        "broken.pdf": "refused",
    }
    store = SupportStore(store_path(aigc_home))
    assert [c.text for c in store.chunks("acme")] == ["The shop opens at 9 am."]
    run = Workspace(aigc_home).list_runs(capability="chat.ingest")[0]
    assert run.status == "done" and run.metrics["refused"] == 1

    rows = (
        ["text,intent"]
        + [f"where is my parcel {i},track" for i in range(5)]
        + [f"I want a refund {i},refund" for i in range(5)]
    )
    upload = ("intents.csv", "\n".join(rows).encode(), "text/csv")
    app.file_uploader(key="support-admin.intents_file").set_value(upload).run()
    app.button(key="support-admin.train").click().run()
    assert not app.exception, app.exception
    accuracy = next(m for m in app.metric if m.label == "Held-out accuracy")
    assert accuracy.value == "100.0%"
    assert (intents_dir(aigc_home) / "weights.safetensors").exists()
