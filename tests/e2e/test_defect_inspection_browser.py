from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

RUN_TIMEOUT_MS = 180_000


def test_defect_inspection_trains_then_inspects_and_downloads_the_report(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, streamlit_server, "Defect Inspection")
    expect(page.get_by_role("heading", name="Defect Inspection")).to_be_visible(timeout=60_000)

    # the default: patch statistics on the quick built-in brick surface
    page.get_by_role("button", name="Train inspector").click()
    metric = page.get_by_test_id("stMetric")
    expect(metric.filter(has_text="Image AUROC")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(metric.filter(has_text="Precision")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Test tiles at the calibrated threshold")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)  # let the histogram and the example grid paint for the screenshot
    screenshot(page, "defect_inspection")

    page.get_by_role("tab", name="Inspect images").click()
    page.get_by_role("button", name="Inspect", exact=True).click()
    expect(metric.filter(has_text="Inspected")).to_contain_text("12", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r": FAIL · \d+ region")).first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)
    screenshot(page, "defect_inspection_batch")
    download = page.get_by_role("button", name="Report (CSV)")
    with page.expect_download(timeout=60_000) as info:
        download.click()
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0].startswith("image,score,verdict") and len(lines) == 13


def test_defect_inspection_job_survives_a_reload_and_stops(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    """Patch statistics on the full-size brick benchmark (the quick one can end before a reload
    finds it): progress at once, a reload finds the training, Stop ends it."""
    open_from_menu(page, streamlit_server, "Defect Inspection")
    expect(page.get_by_role("heading", name="Defect Inspection")).to_be_visible(timeout=60_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Benchmark size").click()
    page.get_by_role("option", name=re.compile("Full: 256 px")).click()
    progress = page.get_by_test_id("stProgress")
    record_latency(
        "defect-inspection: progress after Train", press_and_time(page, "Train inspector", progress)
    )
    expect(page.get_by_text(re.compile(r"learning the patch filters|computing features"))).to_be_visible(
        timeout=120_000
    )
    page.reload()  # the training is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Train inspector")).to_be_disabled()
    stopped = page.get_by_text("Training was stopped")
    record_latency("defect-inspection: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("button", name="Train inspector")).to_be_enabled()
