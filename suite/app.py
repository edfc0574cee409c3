"""Router of the AIGC Industry Suite: page config, menu by industry, shared sidebar.

Run with ``make run`` (or ``aigc serve``). Each capability is one page listed in
`suite.capabilities.CAPABILITIES`; this file only wires them into the menu.
"""

from __future__ import annotations

import streamlit as st

from shared_models import __version__
from suite.capabilities import CAPABILITIES, SECTIONS
from suite.components.navigation import home_page, page_of
from suite.workspace import default_root

APP_TITLE = "AIGC Industry Suite"


def build_navigation() -> dict[str, list[st.Page]]:
    """Menu sections in a fixed order; a section appears only when it has a working page."""
    menu: dict[str, list[st.Page]] = {"": [home_page()]}
    for section in SECTIONS:
        pages = [page_of(c) for c in CAPABILITIES if c.section == section]
        if pages:
            menu[section] = pages
    return menu


def render_sidebar() -> None:
    with st.sidebar:
        st.caption(f"Workspace: `{default_root()}`")
        st.caption(f"aigc-suite {__version__} · runs on CPU, offline")


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/auto_awesome:", layout="wide")
    # the whole menu, always: past 12 pages Streamlit would fold the last sections behind "View more"
    page = st.navigation(build_navigation(), expanded=True)
    render_sidebar()
    page.run()


if __name__ == "__main__":
    main()
