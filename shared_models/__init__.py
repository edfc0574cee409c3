"""The shared generative core: networks, trainer, model store, language and embedding backends.

Plain PyTorch/Python. Knows nothing of domains or of the UI.
"""

from __future__ import annotations

from shared_models.exceptions import (
    InputError,
    ModelError,
    ResourceLimitError,
    SuiteError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "ModelError",
    "ResourceLimitError",
    "SuiteError",
    "WorkspaceError",
    "__version__",
]
