"""The product shell: Streamlit app, `aigc` CLI and the workspace. The only package that imports Streamlit."""

from __future__ import annotations

from shared_models import __version__

__all__ = ["__version__"]
