from __future__ import annotations

import re
import struct
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

RUN_TIMEOUT_MS = 180_000


def _set_number(page: Page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def test_topology_grows_an_mbb_beam_and_downloads_the_part(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, streamlit_server, "Topology")
    expect(page.get_by_role("heading", name="Topology optimisation")).to_be_visible(timeout=60_000)

    _set_number(page, "Elements x", 90)
    _set_number(page, "Elements y", 30)
    page.get_by_role("button", name="Run").click()

    heading = page.get_by_role("heading", name="Quick check with the Part Design FE core")
    expect(heading).to_be_visible(timeout=RUN_TIMEOUT_MS)
    # generous: drawing the 3-D part can hold the browser's main thread for seconds on a busy machine
    metric = page.get_by_test_id("stMetric")
    expect(metric.filter(has_text="Volume fraction")).to_contain_text("0.50", timeout=30_000)
    expect(metric.filter(has_text="Max von Mises")).to_contain_text("MPa", timeout=30_000)
    page.wait_for_timeout(1500)  # let the density image and the 3-D part paint for the screenshot
    screenshot(page, "topology")
    download = page.get_by_role("button", name="STL", exact=True)
    expect(download).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        download.click()
    data = Path(info.value.path()).read_bytes()
    (triangles,) = struct.unpack("<I", data[80:84])  # binary STL: header, count, 50 bytes a triangle
    assert triangles > 100 and len(data) == 84 + 50 * triangles

    # hand the design to Part Design and check it in steel there
    page.get_by_role("button", name="Send to Part Design").click()
    expect(page.get_by_role("heading", name=re.compile(r"Design from Topology run \d+"))).to_be_visible(
        timeout=60_000
    )
    panel = page.locator(".st-key-part-design-topology-check")  # the study form has a Material box too
    panel.get_by_test_id("stSelectbox").filter(has_text="Material").click()
    page.get_by_role("option", name=re.compile("S355")).click()
    panel.get_by_role("button", name="Check stress and deflection").click()
    checked = panel.get_by_test_id("stMetric").filter(has_text="Safety factor")
    expect(checked).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(panel.get_by_text(re.compile(r"S355.*N per load case"))).to_be_visible(timeout=30_000)


def test_topology_job_survives_a_reload_and_stops(page: Page, streamlit_server: StreamlitServer) -> None:
    """A 300 x 100 beam (the default 60 x 20 one ends in about 2 s, before a reload could find it):
    progress at once, a reload finds the job, Stop keeps the design so far."""
    open_from_menu(page, streamlit_server, "Topology")
    expect(page.get_by_role("heading", name="Topology optimisation")).to_be_visible(timeout=60_000)
    _set_number(page, "Elements x", 300)
    _set_number(page, "Elements y", 100)
    _set_number(page, "Max iterations", 1000)
    progress = page.get_by_test_id("stProgress")
    record_latency("topology: progress after Run", press_and_time(page, "Run", progress))
    expect(page.get_by_text(re.compile(r"iteration \d+: compliance"))).to_be_visible(timeout=120_000)
    page.reload()  # the job is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    stopped = page.get_by_text("The optimisation was stopped")
    record_latency("topology: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(page.get_by_text("The design so far was meshed and saved.")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
