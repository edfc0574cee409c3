"""One exception tree for the whole suite.

Every error a user can cause or fix is a `SuiteError`; its message says what went wrong and what to do
next, so the UI can show it as it is (`st.error`) and the CLI can print it without a traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "ModelError", "ResourceLimitError", "SuiteError", "WorkspaceError"]


class SuiteError(Exception):
    """Base of every error the suite raises on purpose; the message is meant for the user."""


class InputError(SuiteError, ValueError):
    """A user-supplied value or file is not acceptable (wrong type, content or range)."""


class ResourceLimitError(InputError):
    """An input crosses a limit (file size, image count, pixels, text length); the message names it."""


class ModelError(SuiteError):
    """A model could not be built, trained, loaded or run."""


class WorkspaceError(SuiteError):
    """The workspace (run database or artifacts folder) is missing, corrupt, foreign or unwritable."""
