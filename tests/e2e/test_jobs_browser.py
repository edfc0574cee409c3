"""A job outlives the browser session that started it: another tab finds it on Home and stops it."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, record_latency, screenshot

LOAD_TIMEOUT_MS = 60_000


def test_a_job_started_in_one_tab_is_stopped_from_home_in_another(
    page: Page, browser: Browser, fresh_streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, fresh_streamlit_server, "Strategy Studio")
    expect(page.get_by_role("heading", name="Strategy Studio")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("Let the language model write a commentary").click()
    page.get_by_role("button", name="Generate strategies").click()
    expect(page.get_by_text(re.compile(r"trial \d+"))).to_be_visible(timeout=120_000)

    other = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    other.goto(fresh_streamlit_server.url)
    expect(other.get_by_text(re.compile(r"Strategy Studio · \d+ trials"))).to_be_visible(
        timeout=LOAD_TIMEOUT_MS
    )
    stop = other.locator("[class*='st-key-home-stop-']").get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    other.get_by_role("heading", name="Jobs").evaluate("e => e.scrollIntoView({block: 'start'})")
    other.wait_for_timeout(800)  # let the progress bar fill before the README screenshot
    screenshot(other, "home_jobs")
    started = time.monotonic()
    stop.click()
    expect(page.get_by_text("The search was stopped")).to_be_visible(timeout=30_000)  # in the first tab
    record_latency(
        "home: first tab shows the job cancelled after Stop in another tab", time.monotonic() - started
    )
    expect(other.get_by_text("No job is running")).to_be_visible(timeout=30_000)
    other.context.close()
