from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

SEARCH_TIMEOUT_MS = 600_000  # generous: two shared cores


def pick_option(page: Page, label: str, option: str, tries: int = 3) -> None:
    """Open a select box and pick an option; a rerun that lands mid-click (the trials field above
    was just changed) closes the list, so open it again."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    for attempt in range(tries):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if attempt == tries - 1:
                raise


def test_strategy_studio_search_memo_and_downloads(page: Page, streamlit_server: StreamlitServer) -> None:
    open_from_menu(page, streamlit_server, "Strategy Studio")
    expect(page.get_by_role("heading", name="Strategy Studio")).to_be_visible(timeout=60_000)

    page.get_by_text("Search options").click()
    trials = page.get_by_label("Trials")
    trials.fill("6")
    trials.press("Enter")
    # GARCH-t scenarios for min CVaR keep the test short (the generative model trains once per fold).
    pick_option(page, "Min-CVaR scenarios", "garch")
    # The language model's commentary is covered by a unit test; here the memo is the checked template.
    page.get_by_text("Let the language model write a commentary").click()
    page.get_by_role("button", name="Generate strategies").click()
    expect(page.get_by_role("heading", name=re.compile(r"Run \d+: strategy search"))).to_be_visible(
        timeout=SEARCH_TIMEOUT_MS
    )
    ranking = page.get_by_test_id("stDataFrame").first
    expect(ranking.locator("td", has_text="buy-and-hold sp500").first).to_be_attached()
    expect(page.get_by_text("Not investment advice").first).to_be_visible()
    expect(page.get_by_role("heading", name="Fact table")).to_be_visible()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download ranking.csv").click()
    header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("rank,strategy,type,role")
    with page.expect_download(timeout=60_000) as memo:
        page.get_by_role("button", name="Download memo.html").click()
    assert "Not investment advice" in Path(memo.value.path()).read_text(encoding="utf-8")
    heading = page.get_by_role("heading", name=re.compile(r"Run \d+: strategy search"))
    heading.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1500)  # let the charts paint before the README screenshot
    screenshot(page, "strategy_studio")


def test_strategy_studio_job_survives_a_reload_and_stops(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    """Defaults (200 trials, generative scenarios): progress at once, a reload finds the job, Stop ends it."""
    open_from_menu(page, streamlit_server, "Strategy Studio")
    expect(page.get_by_role("heading", name="Strategy Studio")).to_be_visible(timeout=60_000)
    page.get_by_text("Let the language model write a commentary").click()
    progress = page.get_by_test_id("stProgress")
    record_latency(
        "strategy-studio: progress after Generate", press_and_time(page, "Generate strategies", progress)
    )
    expect(page.get_by_text(re.compile(r"trial \d+"))).to_be_visible(timeout=120_000)
    page.reload()  # the job is not tied to the browser session
    # the panel's own Stop (keyed), not the toolbar's Stop that shows while a script runs
    expect(page.locator(".st-key-strategy-studio-stop").get_by_role("button")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Generate strategies")).to_be_disabled()
    stopped = page.get_by_text("The search was stopped")
    record_latency("strategy-studio: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("button", name="Generate strategies")).to_be_enabled()
