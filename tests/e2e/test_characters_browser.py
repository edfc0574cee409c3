from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, press_and_time, record_latency, screenshot

GENERATE_TIMEOUT_MS = 300_000
CARD_TIMEOUT_MS = 480_000  # the first card also loads the language model; 2 shared cores


def test_character_design_generates_characters_and_a_card(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    open_from_menu(page, streamlit_server, "Character Design")
    expect(page.get_by_role("heading", name="Character Design")).to_be_visible(timeout=180_000)

    page.get_by_label("Brief").fill("a grumpy blacksmith for a fantasy RPG")
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Hair", exact=True)).click()
    page.get_by_role("option", name="red", exact=True).click()
    page.get_by_test_id("stExpander").filter(has_text="Generator").click()
    slider = page.get_by_role("slider", name=re.compile("Training steps"))
    slider.focus()
    slider.press("Home")  # the shortest first-use training: 50 steps
    expect(slider).to_have_value("50")
    page.get_by_role("button", name="Generate").click()

    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    heading = page.get_by_role("heading", name=re.compile(r"Run \d+: 16 characters \(CVAE\)"))
    expect(heading).to_be_visible(timeout=GENERATE_TIMEOUT_MS)
    expect(page.get_by_text("#16", exact=True)).to_be_visible()
    page.get_by_text("★").nth(2).click()  # a favourite

    page.get_by_role("button", name="Write card").click()
    expect(page.get_by_role("button", name="Pitch sheet (HTML)")).to_be_visible(timeout=CARD_TIMEOUT_MS)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Card (JSON)").click()
    card = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert card["attributes"]["hair"] == "red" and "red hair" in card["appearance"]
    assert card["name"] and card["backstory"]
    page.wait_for_timeout(500)  # let the images paint before the README screenshot
    screenshot(page, "character_design")


def test_character_design_job_survives_a_reload_and_stop_keeps_the_progress(
    page: Page, streamlit_server: StreamlitServer
) -> None:
    """Defaults (a first-use cVAE training of 1500 steps; the test above stored a 50-step one):
    progress at once, a reload finds the job, Stop ends it and keeps what was trained."""
    open_from_menu(page, streamlit_server, "Character Design")
    expect(page.get_by_role("heading", name="Character Design")).to_be_visible(timeout=180_000)
    progress = page.get_by_test_id("stProgress")
    record_latency("character-design: progress after Generate", press_and_time(page, "Generate", progress))
    expect(page.get_by_text(re.compile(r"^training · \d+ of 1500"))).to_be_visible(timeout=120_000)
    page.reload()  # the job is not tied to the browser session
    expect(page.get_by_test_id("stMain").get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Generate")).to_be_disabled()
    stopped = page.get_by_text("Generation was stopped")
    record_latency("character-design: cancelled after Stop", press_and_time(page, "Stop", stopped))
    expect(
        page.get_by_text(re.compile(r"its progress is kept: Generate continues from there"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
