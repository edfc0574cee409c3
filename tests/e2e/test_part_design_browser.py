from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

LOAD_TIMEOUT_MS = 60_000
STUDY_TIMEOUT_MS = 240_000


def test_part_design_runs_a_short_study_and_shows_the_design_in_3d(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, streamlit_server, "Part Design")
    expect(page.get_by_role("heading", name="Part Design")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    page.get_by_test_id("stSelectbox").filter(has_text="Part family").click()
    page.get_by_role("option", name="Mounting plate").click()
    resolution = page.get_by_role("slider", name="FE resolution")
    resolution.focus()
    resolution.press("Home")  # coarse: one voxel through the plate keeps the study short
    trials = page.get_by_label("Trials")
    trials.fill("6")
    trials.press("Enter")
    study = page.get_by_label("Study name")
    study.fill("browser-plate")
    study.press("Enter")
    page.get_by_role("button", name="Optimise").click()

    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=30_000)
    heading = page.get_by_role("heading", name=re.compile(r"Study browser-plate \(run \d+\)"))
    # the live panel, unless the study ends between two polls of the page (seen when the machine is free)
    expect(page.get_by_text("Feasible designs").or_(heading).first).to_be_visible(timeout=60_000)
    expect(heading).to_be_visible(timeout=STUDY_TIMEOUT_MS)
    trials_label = page.get_by_test_id("stMetricLabel").get_by_text("Trials", exact=True)
    trials_metric = page.get_by_test_id("stMetric").filter(has=trials_label).get_by_test_id("stMetricValue")
    expect(trials_metric).to_have_text("6", timeout=30_000)  # the live panel's "Trials done" fades out first
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first).to_be_visible(timeout=120_000)  # plotly loads lazily; slow on shared cores
    expect(page.get_by_text("von Mises (MPa)").first).to_be_attached(timeout=120_000)  # the 3D colour bar
    expect(page.locator(".gl-container canvas").first).to_be_attached()  # the WebGL scene of the Mesh3d
    numbers = page.get_by_test_id("stDataFrame").locator("td", has_text="Peak von Mises (MPa)")
    expect(numbers).to_be_attached()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download STL").click()
    assert download.value.suggested_filename.startswith("browser-plate-trial-")
    page.wait_for_timeout(1500)  # let the 3D scene paint before the README screenshot
    screenshot(page, "part_design")


def test_part_design_job_survives_a_reload_and_stops(page: Page, streamlit_server: StreamlitServer) -> None:
    """Defaults (L-bracket, 30 trials): progress at once, a reload finds the study, Stop keeps its trials."""
    open_from_menu(page, streamlit_server, "Part Design")
    expect(page.get_by_role("heading", name="Part Design")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    progress = page.get_by_test_id("stProgress")
    record_latency("part-design: progress after Optimise", press_and_time(page, "Optimise", progress))
    expect(page.get_by_text(re.compile(r"· [1-9]\d* of 30 ·"))).to_be_visible(timeout=120_000)  # a trial done
    page.reload()  # the study is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(
        timeout=LOAD_TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Optimise")).to_be_disabled()
    stopped = page.get_by_text("The study was stopped")
    record_latency("part-design: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_role("heading", name=re.compile(r"Study l-bracket-.* \(run \d+\)"))).to_be_visible(
        timeout=LOAD_TIMEOUT_MS
    )  # the trials finished before the stop
    expect(page.get_by_role("button", name="Optimise")).to_be_enabled()
