from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

BACKTEST_TIMEOUT_MS = 300_000


def test_risk_lab_var_and_backtest(page: Page, streamlit_server: StreamlitServer) -> None:
    open_from_menu(page, streamlit_server, "Risk Lab")
    expect(page.get_by_role("heading", name="Risk Lab")).to_be_visible(timeout=60_000)

    var_heading = page.get_by_role("heading", name=re.compile(r"Run \d+: VaR and ES"))
    record_latency(
        "risk-lab: VaR and ES shown after Compute",
        press_and_time(page, "Compute VaR and ES", var_heading, timeout_ms=120_000),
    )
    cells = page.get_by_test_id("stDataFrame").locator(
        "td", has_text="GARCH(1,1)-t filtered historical simulation"
    )
    expect(cells.first).to_be_attached()
    expect(page.get_by_role("button", name="Download report.html").first).to_be_visible()

    page.get_by_role("tab", name="Backtest").click()
    refit = page.get_by_role("spinbutton", name="Re-estimate parameters every (days)")
    refit.fill("100")  # fewer GARCH fits: the test checks the flow, the benchmark the statistics
    refit.press("Enter")
    page.get_by_role("button", name="Run backtest").click()
    expect(page.get_by_role("heading", name=re.compile(r"Run \d+: backtest"))).to_be_visible(
        timeout=BACKTEST_TIMEOUT_MS
    )
    expect(page.get_by_text("traffic light:").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"exceptions in the last 250 days")).first).to_be_visible()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download backtest_summary.csv").click()
    with open(download.value.path(), encoding="utf-8") as csv_file:
        header = csv_file.readline()
    assert header.startswith("model,level,days,exceptions")
    page.wait_for_timeout(800)  # let the charts paint before the README screenshot
    screenshot(page, "risk_lab")


def test_risk_lab_job_survives_a_reload_and_stops(page: Page, streamlit_server: StreamlitServer) -> None:
    """Scenario training with the defaults (60 s): progress at once, a reload finds it, Stop ends it."""
    open_from_menu(page, streamlit_server, "Risk Lab")
    expect(page.get_by_role("heading", name="Risk Lab")).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Scenarios").click()
    progress = page.get_by_test_id("stProgress")
    record_latency("risk-lab: progress after Train", press_and_time(page, "Train and compare", progress))
    expect(page.get_by_text(re.compile(r"training · \d+ of"))).to_be_visible(timeout=120_000)
    page.reload()  # the job is not tied to the browser session; its panel sits above the tabs
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Compute VaR and ES")).to_be_disabled()  # one job per page
    stopped = page.get_by_text("Scenario training was stopped")
    record_latency("risk-lab: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("button", name="Compute VaR and ES")).to_be_enabled()
