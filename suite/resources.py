"""Process-wide resources for the app, cached at the UI edge.

Plain factories live in the lower layers; this module only decides what is shared across sessions
(`st.cache_resource`: models, the workspace) and what is memoised per input (`st.cache_data`).
"""

from __future__ import annotations

import streamlit as st

from suite.workspace import Workspace, default_root

__all__ = ["get_workspace"]


@st.cache_resource(show_spinner=False)
def _workspace_at(root: str) -> Workspace:
    # Opening runs the schema check and migration once per process and root, not on every rerun.
    return Workspace(root)


def get_workspace() -> Workspace:
    """The workspace at ``$AIGC_HOME`` (default ``./workspace``), opened once per process.

    Raises:
        WorkspaceError: The database is corrupt, foreign or newer (not cached, so a fix is seen).
    """
    return _workspace_at(str(default_root()))
