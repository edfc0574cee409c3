from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

STYLISE_TIMEOUT_MS = 240_000  # a 256 px painting on 2 shared cores


def test_style_transfer_paints_a_photo_and_offers_downloads(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, streamlit_server, "Style Transfer")
    expect(page.get_by_role("heading", name="Style Transfer")).to_be_visible(timeout=180_000)

    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Style image", exact=True)).click()
    page.get_by_role("option", name="swirl", exact=True).click()
    size = page.get_by_role("slider", name=re.compile("Output size"))
    size.focus()
    size.press("Home")  # the smallest output, 64 px, then two sizes up: 256 px
    size.press("ArrowRight")
    size.press("ArrowRight")
    expect(size).to_have_attribute("aria-valuetext", "256")
    page.get_by_role("button", name="Stylise").click()

    heading = page.get_by_role("heading", name=re.compile(r"Run \d+: astronaut in the style of swirl"))
    expect(heading).to_be_visible(timeout=STYLISE_TIMEOUT_MS)
    expect(page.get_by_text("Colour distance")).to_be_visible()
    expect(page.get_by_text("Gallery of earlier results")).to_be_visible()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Result (PNG)").click()
    assert Image.open(Path(download.value.path())).size == (256, 256)
    page.wait_for_timeout(800)  # let the images paint before the README screenshot
    screenshot(page, "style_transfer")


def test_style_transfer_job_survives_a_reload_and_stops(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    """Defaults (painterly, 512 px): progress at once, a reload finds the painting, Stop ends it and the
    painting so far is shown, measured."""
    open_from_menu(page, streamlit_server, "Style Transfer")
    expect(page.get_by_role("heading", name="Style Transfer")).to_be_visible(timeout=180_000)
    progress = page.get_by_test_id("stProgress")
    record_latency("style-transfer: progress after Stylise", press_and_time(page, "Stylise", progress))
    expect(page.get_by_text(re.compile(r"scale 1/3, patch"))).to_be_visible(timeout=STYLISE_TIMEOUT_MS)
    page.reload()  # the job is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Stylise")).to_be_disabled()
    stopped = page.get_by_text("Stylising was stopped")
    record_latency("style-transfer: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_text("The painting so far was measured and saved")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"Run \d+: astronaut in the style of"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Stylise")).to_be_enabled()
