"""Real-browser fixtures: Debian's Chromium driven by Playwright against `streamlit run` on loopback.

No browser is ever downloaded (the machines are offline): Chromium comes from ``$CHROMIUM`` or
``/usr/bin/chromium``. Without it the browser tests skip with the reason shown, except under
``REQUIRE_BROWSER=1`` (CI), where a missing browser fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from suite.commands.serve import streamlit_command

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Overrides pytest-playwright's launch arguments: the system Chromium, offline-safe flags."""
    chromium = find_chromium()
    if chromium is None:
        reason = "Chromium not found (set CHROMIUM or install Debian's chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return {"executable_path": chromium, "args": CHROMIUM_FLAGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # Streamlit scrolls inside its own container, so a tall viewport shows the whole page.
    return {"viewport": {"width": 1400, "height": 1400}}


@dataclass
class StreamlitServer:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_streamlit(home: Path, log: Path) -> StreamlitServer:
    """Start the app on a free loopback port with its own workspace; wait until it answers."""
    port = free_port()
    # No file watcher: an edit under suite/ while tests run (several people share a tree) would make
    # Streamlit reload the suite's modules under a running server, and its jobs with them.
    env = {
        **os.environ,
        "AIGC_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }
    handle = log.open("wb")
    process = subprocess.Popen(
        streamlit_command("127.0.0.1", port), cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return StreamlitServer(url=url, home=home, process=process, log=log)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not answer within {SERVER_START_TIMEOUT_S}s:\n{log.read_text()}")


def seed_demo_runs(home: Path) -> None:
    """A few real workspace runs so Home has something to list."""
    from suite.workspace import RunCancelled, Workspace

    ws = Workspace(home)
    with ws.start_run("workspace.demo", {"purpose": "browser test"}) as run:
        run.log_metrics({"score": 0.875})
    with ws.start_run("workspace.demo", {"purpose": "cancelled"}):
        raise RunCancelled("stopped from the browser test")


@contextmanager
def seeded_streamlit(base: Path) -> Iterator[StreamlitServer]:
    """A server on a fresh workspace holding only the demo runs; stopped on exit."""
    seed_demo_runs(base / "home")
    server = start_streamlit(base / "home", base / "streamlit.log")
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """One server shared by the capability tests (their runs accumulate in its workspace)."""
    with seeded_streamlit(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture
def fresh_streamlit_server(tmp_path: Path) -> Iterator[StreamlitServer]:
    """A server of the test's own, for tests that check exactly what the workspace holds."""
    with seeded_streamlit(tmp_path) as server:
        yield server


def open_from_menu(page: Any, server: StreamlitServer, link_name: str) -> None:
    """Open Home, then follow the sidebar menu link to a page, as a user does.

    A deep link into a freshly started server can hit Streamlit's "page not found" before the first
    script run has registered the pages. The sidebar scope matters: Home also shows a card link of
    the same name for each capability, and a bare role lookup would match both.
    """
    page.goto(server.url)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=link_name).click()


def screenshot(page: Any, name: str) -> Path:
    """Save a README screenshot of the current page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


__all__ = [
    "StreamlitServer",
    "open_from_menu",
    "press_and_time",
    "record_latency",
    "screenshot",
    "start_streamlit",
    "sys",
]


def record_latency(name: str, seconds: float) -> None:
    """Print a measured UI latency and, with ``AIGC_E2E_TIMINGS`` set, append it to that JSON-lines file
    (``make bench`` reports them; tests never assert wall-clock times beyond generous time-outs)."""
    print(f"latency {name}: {seconds:.2f} s")
    target = os.environ.get("AIGC_E2E_TIMINGS")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"name": name, "seconds": round(seconds, 3)}) + "\n")


def press_and_time(page: Any, button: str, then_visible: Any, timeout_ms: int = 60_000) -> float:
    """Click a button and return the seconds until ``then_visible`` shows."""
    from playwright.sync_api import expect

    started = time.monotonic()
    # in the page body: the status widget in the header has a Stop of its own while a script runs
    page.get_by_test_id("stMain").get_by_role("button", name=button, exact=True).click()
    expect(then_visible).to_be_visible(timeout=timeout_ms)
    return time.monotonic() - started
