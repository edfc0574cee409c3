from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import suite

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


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP_FILE, default_timeout=APPTEST_TIMEOUT_S)
