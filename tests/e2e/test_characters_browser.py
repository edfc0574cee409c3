from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, open_from_menu, screenshot

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

    expect(page.get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
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
