from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import suite
from suite.jobs import JobStore
from suite.jobs.service import shutdown_job_services
from suite.workspace import Workspace

APP_FILE = str(Path(suite.__file__).resolve().parent / "app.py")
APPTEST_TIMEOUT_S = 60  # generous: 2 shared cores, first imports of torch-based modules


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """Each test sees its own workspace and models, not those cached by the previous test."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def _pages_registered_before_switching(monkeypatch: pytest.MonkeyPatch) -> None:
    """`AppTest.switch_page` finds a page by its file among the pages `st.navigation` registered; before
    the first run nothing is registered and it guesses from the file name, which is ``page.py`` for
    every capability. So a fresh AppTest runs the app once (Home) before it switches."""
    switch_page = AppTest.switch_page

    def switch_after_registration(self: AppTest, page_path: str) -> AppTest:
        if not self._registered_pages:
            self.run()
        return switch_page(self, page_path)

    monkeypatch.setattr(AppTest, "switch_page", switch_after_registration)


@pytest.fixture(autouse=True)
def _no_jobs_left_behind() -> Iterator[None]:
    """Each test's job services (and their workers) end with the test."""
    yield
    shutdown_job_services()


def run_until_jobs_end(app: AppTest, timeout: float = APPTEST_TIMEOUT_S) -> AppTest:
    """Rerun the page until the workspace has no queued or running job, then once more to draw it.

    Pages run long work as jobs and redraw on their own in a browser; a test reruns them instead.
    """
    app.run()
    store = JobStore(Workspace.from_env())
    deadline = time.monotonic() + timeout
    while store.list(statuses=["queued", "running"]):
        assert time.monotonic() < deadline, f"jobs still running after {timeout} s"
        time.sleep(0.2)
    return app.run()


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP_FILE, default_timeout=APPTEST_TIMEOUT_S)
