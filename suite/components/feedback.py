"""How pages report problems: a `SuiteError` becomes an error box with what to do, never a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from shared_models.exceptions import SuiteError

__all__ = ["user_errors"]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show a `SuiteError` raised inside the block as ``st.error`` and stop the page there.

    Example:
        >>> with user_errors():
        ...     workspace = get_workspace()
    """
    try:
        yield
    except SuiteError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
