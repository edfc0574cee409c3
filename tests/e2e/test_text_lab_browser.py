from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import StreamlitServer, record_latency, screenshot

LOAD_TIMEOUT_MS = 60_000
ANSWER_TIMEOUT_MS = 120_000
CORPUS = (
    "The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun.\n"
    "A small bird sings on the old fence, and the fox listens.\n"
) * 60


def test_text_lab_chats_then_trains_and_samples_a_gpt(
    page: Page, streamlit_server: StreamlitServer, tmp_path: Path
) -> None:
    # A fresh server answers the very first deep link with a "Page not found" dialog that makes the
    # page inert (seen on every page); opening Home first avoids it.
    page.goto(streamlit_server.url)
    expect(page.get_by_role("heading", name="AIGC Industry Suite")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.goto(f"{streamlit_server.url}/text-lab")
    expect(page.get_by_role("heading", name="Text Lab")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("SmolLM2-135M-Instruct.Q4_1.gguf")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    chat_box = page.get_by_test_id("stChatInputTextArea")
    chat_box.fill("Write one sentence about the sea.")
    chat_box.press("Enter")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.nth(0)).to_contain_text("Write one sentence about the sea.", timeout=ANSWER_TIMEOUT_MS)
    expect(messages).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_text("Last answer:")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert len(messages.nth(1).inner_text().strip()) > 10
    speed = page.get_by_test_id("stMetric").filter(has_text="Tokens/s").get_by_test_id("stMetricValue")
    assert float(speed.inner_text()) > 0
    page.wait_for_timeout(300)
    screenshot(page, "text_lab")

    page.get_by_role("tab", name="Train a small GPT").click()
    corpus = tmp_path / "fox.txt"
    corpus.write_text(CORPUS)
    page.locator("input[type='file']").set_input_files(str(corpus))
    expect(page.get_by_text("fox.txt")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").filter(has_text="Model size").click()
    page.get_by_role("option", name="tiny (2 layers, 64 dims)").click()
    slider = page.get_by_role("slider", name="Training seconds")
    slider.focus()
    slider.press("Home")  # the shortest budget: 5 s
    expect(slider).to_have_value("5")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("validation loss")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.get_by_label("Start of the text").fill("The ")
    page.get_by_role("button", name="Sample").click()
    sample = page.get_by_test_id("stCode")
    expect(sample).to_contain_text("The ", timeout=LOAD_TIMEOUT_MS)
    assert len(sample.inner_text().strip()) > 100


def test_training_survives_a_reload_and_stop_keeps_the_partial_model(
    page: Page, streamlit_server: StreamlitServer, tmp_path: Path
) -> None:
    """Default budget (small GPT, 60 s): progress at once, a reload finds the job, Stop keeps the model."""
    from suite.workspace import Workspace

    page.goto(streamlit_server.url)
    expect(page.get_by_role("heading", name="AIGC Industry Suite")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.goto(f"{streamlit_server.url}/text-lab")
    page.get_by_role("tab", name="Train a small GPT").click()
    corpus = tmp_path / "fox.txt"
    corpus.write_text(CORPUS)
    page.locator("input[type='file']").set_input_files(str(corpus))
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled(timeout=LOAD_TIMEOUT_MS)
    record_latency(
        "text-lab: progress after Train", _press_and_time(train, page.get_by_test_id("stProgress"))
    )
    expect(page.get_by_text(re.compile(r"^step \d+ · loss"))).to_be_visible(timeout=LOAD_TIMEOUT_MS)  # live
    page.reload()  # the job is not tied to the browser session
    page.get_by_role("tab", name="Train a small GPT").click()
    # The page's own Stop (exact name), not Streamlit's toolbar Stop, which halts the script outright.
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(train).to_be_disabled()
    stopped = page.get_by_text("Training was stopped")
    record_latency("text-lab: cancelled after Stop", _press_and_time(stop, stopped))
    expect(page.get_by_text("stopped early")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    runs = Workspace(streamlit_server.home).list_runs(capability="text.train", limit=1)
    assert runs[0].status == "cancelled" and runs[0].artifacts == ["model"]
    assert runs[0].metrics["seconds"] < 50 and runs[0].job_id is not None
    page.get_by_role("button", name="Sample").click()
    expect(page.get_by_test_id("stCode")).to_be_visible(timeout=LOAD_TIMEOUT_MS)


def _press_and_time(button: Locator, then_visible: Locator, timeout_ms: int = LOAD_TIMEOUT_MS) -> float:
    """Click and return the seconds until ``then_visible`` shows (`press_and_time` by role name would
    also match Streamlit's toolbar Stop)."""
    started = time.monotonic()
    button.click()
    expect(then_visible).to_be_visible(timeout=timeout_ms)
    return time.monotonic() - started
