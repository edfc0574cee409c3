"""Script Writer in Chromium with the bundled SmolLM2 model: a one-scene draft, its preview and downloads;
a draft that survives a reload and stops, keeping what was written."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from domains.entertainment.scripts import parse, validate
from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

LOAD_TIMEOUT_MS = 60_000
DRAFT_TIMEOUT_MS = 900_000  # seconds on a free machine; many minutes when other jobs take the 2 cores


def _set_number(page: Page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def test_script_writer_drafts_a_short_screenplay(page: Page, streamlit_server: StreamlitServer) -> None:
    open_from_menu(page, streamlit_server, "Script Writer")
    expect(page.get_by_role("heading", name="Script Writer")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    logline = "Two rival bakers must share one oven on the night of the town fair."
    page.get_by_role("textbox", name="Logline").fill(logline)
    _set_number(page, "Scenes", 1)
    _set_number(page, "Characters", 1)
    _set_number(page, "Lines per scene", 2)
    page.get_by_role("button", name="Write the whole draft").click()
    expect(page.get_by_role("heading", name="4 · Scenes")).to_be_visible(timeout=DRAFT_TIMEOUT_MS)

    preview = page.locator(".screenplay")
    expect(preview.locator(".scene_heading")).to_have_count(1, timeout=LOAD_TIMEOUT_MS)
    expect(preview.locator(".character").first).to_be_visible()
    expect(preview.locator(".dialogue").first).to_be_visible()
    assert "Courier" in preview.evaluate("e => getComputedStyle(e).fontFamily")

    with page.expect_download() as download:
        page.get_by_role("button", name="Fountain").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert validate(parse(text)) == []
    with page.expect_download() as pdf:
        page.get_by_role("button", name="PDF").click()
    assert pdf.value.path().read_bytes().startswith(b"%PDF-")
    page.wait_for_timeout(300)
    screenshot(page, "script_writer")


def test_script_writer_job_survives_a_reload_and_stops(page: Page, streamlit_server: StreamlitServer) -> None:
    """Defaults (5 scenes, 3 characters, bundled model): progress at once, a reload finds the job, Stop
    ends it and keeps the title and characters written so far."""
    open_from_menu(page, streamlit_server, "Script Writer")
    expect(page.get_by_role("heading", name="Script Writer")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    progress = page.get_by_test_id("stProgress")
    record_latency(
        "script-writer: progress after Write the whole draft",
        press_and_time(page, "Write the whole draft", progress),
    )
    # the title and the characters are written: the model is on the outline
    expect(page.get_by_text(re.compile("writing the outline")).first).to_be_visible(timeout=DRAFT_TIMEOUT_MS)
    page.reload()  # the job is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Write the whole draft")).to_be_disabled()
    stopped = page.get_by_text("Writing was stopped")
    record_latency("script-writer: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("button", name="Write the whole draft")).to_be_enabled()
    expect(page.get_by_role("heading", name="2 · Title and characters")).to_be_visible()
