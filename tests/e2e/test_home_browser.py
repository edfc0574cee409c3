from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import StreamlitServer, screenshot

LOAD_TIMEOUT_MS = 60_000


def test_home_shows_title_and_runs_table(page: Page, fresh_streamlit_server: StreamlitServer) -> None:
    page.goto(fresh_streamlit_server.url)
    expect(page.get_by_role("heading", name="AIGC Industry Suite")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page).to_have_title("AIGC Industry Suite", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("Recent runs")).to_be_visible()
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_text("2 runs in")).to_be_visible()
    # The grid draws on a canvas and keeps a table of its cells inside it (column, row).
    newest = [table.get_by_test_id(f"glide-cell-{col}-0") for col in range(1, 4)]  # column 0 picks a row
    expect(newest[0]).to_have_text("2")
    expect(newest[1]).to_have_text("workspace.demo")
    expect(newest[2]).to_contain_text("cancelled")
    expect(table.get_by_test_id("glide-cell-3-1")).to_contain_text("done")
    screenshot(page, "home")
