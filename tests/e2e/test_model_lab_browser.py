from __future__ import annotations

import re
import zipfile

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

TRAINING_TIMEOUT_MS = 240_000


def test_model_lab_trains_a_cvae_and_shows_results(page: Page, streamlit_server: StreamlitServer) -> None:
    # Arrive as a user does, through the menu: a deep link into a freshly started server can hit
    # Streamlit's "page not found" before the first script run has registered the pages.
    open_from_menu(page, streamlit_server, "Image generators")
    expect(page.get_by_role("heading", name="Model Lab: image generators")).to_be_visible(timeout=60_000)

    page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="scikit-learn digits (8x8, upsampled)").click()
    slider = page.get_by_role("slider", name="Training time (seconds)")
    slider.focus()
    slider.press("Home")  # the shortest budget: 5 s
    expect(slider).to_have_value("5")
    page.get_by_role("button", name="Train").click()

    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=30_000)
    heading = page.get_by_role("heading", name=re.compile(r"Run \d+: CVAE on digits"))
    expect(heading).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    metrics = page.get_by_test_id("stDataFrame").locator("td", has_text="Conditional accuracy")
    expect(metrics).to_be_attached()  # the grid draws on a canvas; its cells stay in the DOM
    download_model = page.get_by_role("button", name="Download model (safetensors + card)")
    expect(download_model).to_be_visible()
    with page.expect_download(timeout=60_000) as download:
        download_model.click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert sorted(archive.namelist()) == ["card.json", "model.safetensors"]
    page.get_by_role("tab", name="Per class").click()
    expect(page.get_by_text("One row per class: 0, 1, 2")).to_be_visible()
    page.wait_for_timeout(500)  # let the images paint before the README screenshot
    screenshot(page, "model_lab")


def test_model_lab_job_survives_a_reload_and_stop_saves_the_model_at_once(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    """Defaults (cVAE on MNIST, 60 s): progress at once, a reload finds the job, Stop saves the model."""
    open_from_menu(page, streamlit_server, "Image generators")
    expect(page.get_by_role("heading", name="Model Lab: image generators")).to_be_visible(timeout=60_000)
    progress = page.get_by_test_id("stProgress")
    record_latency("model-lab: progress after Train", press_and_time(page, "Train", progress))
    expect(page.get_by_text(re.compile(r"^training · \d+ of \d+"))).to_be_visible(timeout=120_000)
    page.reload()  # the job is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Train")).to_be_disabled()
    stopped = page.get_by_text("Training was stopped")
    record_latency("model-lab: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("heading", name=re.compile(r"Run \d+: CVAE on mnist"))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_text(re.compile("^Not measured"))).to_be_visible()
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
