"""The `st.Page` of each capability, built one way for the menu and for every link to it.

Links pass the page object rather than a file path: Streamlit finds a page by its URL path, so this
works wherever the page file lives (a path link only resolves files in a ``pages/`` folder whenever
the menu is not registered yet, as in a test's rerun).
"""

from __future__ import annotations

import streamlit as st

from suite.capabilities import Capability

__all__ = ["home_page", "page_of"]


def page_of(capability: Capability) -> st.Page:
    """The capability's page, as registered in the menu (its URL path is the capability id)."""
    return st.Page(
        str(capability.page_path), title=capability.title, icon=capability.icon, url_path=capability.id
    )


def home_page() -> st.Page:
    return st.Page("pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True)
