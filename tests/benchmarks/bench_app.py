"""App start-up: `streamlit run` to the first HTTP 200, and Home's first render."""

from __future__ import annotations

import tempfile
import time
import urllib.request
from pathlib import Path

from suite.workspace import Workspace
from tests.benchmarks import Figure
from tests.e2e.conftest import start_streamlit


def _first_page_seconds(home: Path, log: Path) -> tuple[float, float]:
    start = time.perf_counter()
    server = start_streamlit(home, log)
    health = time.perf_counter() - start
    try:
        with urllib.request.urlopen(server.url, timeout=30) as response:
            assert response.status == 200
        first = time.perf_counter() - start
    finally:
        server.process.terminate()
        server.process.wait(timeout=15)
    return health, first


def _home_render_seconds(home: Path) -> float:
    import os

    from streamlit.testing.v1 import AppTest

    from tests.suite.conftest import APP_FILE

    os.environ["AIGC_HOME"] = str(home)
    app = AppTest.from_file(APP_FILE, default_timeout=60)
    start = time.perf_counter()
    app.run()
    return time.perf_counter() - start


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        ws = Workspace(home)
        for i in range(50):
            ws.start_run("bench.app", {"i": i}).finish()
        health, first = _first_page_seconds(home, Path(tmp) / "log")
        render = _home_render_seconds(home)
    return [
        Figure("app", "streamlit run -> health endpoint 200", health, "s", "server process start, 50 runs"),
        Figure("app", "streamlit run -> first HTTP 200 on /", first, "s", ""),
        Figure("app", "Home script run (AppTest, cold process caches)", render, "s", "includes imports"),
    ]
