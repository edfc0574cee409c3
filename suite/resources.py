"""Process-wide resources for the app, cached at the UI edge.

Plain factories live in the lower layers; this module only decides what is shared across sessions
(`st.cache_resource`: models, the workspace) and what is memoised per input (`st.cache_data`).
"""

from __future__ import annotations

import streamlit as st

from shared_models.lm import LMConfig, TextGenerator, build_text_generator
from suite.workspace import Workspace, default_root

__all__ = ["get_text_generator", "get_workspace", "lm_cache_dir"]


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


def lm_cache_dir() -> str:
    """Where the transformers fallback keeps its dequantised copy of a GGUF (inside the workspace)."""
    return str(default_root() / "cache" / "lm")


@st.cache_resource(show_spinner="Loading the language model…", max_entries=4)
def _text_generator(config: LMConfig) -> TextGenerator:
    return build_text_generator(config)


def get_text_generator(config: LMConfig | None = None) -> TextGenerator:
    """One generator per configuration and process, shared by every session (each backend is
    thread-safe). Defaults come from the ``AIGC_LLM_*`` variables.

    Raises:
        SuiteError: The model file or endpoint settings are wrong (not cached, so a fix is seen).
    """
    config = config or LMConfig.from_env(cache_dir=lm_cache_dir())
    return _text_generator(config)
