"""Fixtures for the language core: the bundled GGUF loaded once per test session."""

from __future__ import annotations

import pytest

from shared_models.lm import LMConfig, TextGenerator, build_text_generator


@pytest.fixture(scope="session")
def local_lm() -> TextGenerator:
    """SmolLM2-135M-Instruct on llama.cpp, shared by every test that needs it (0.2 s to load)."""
    return build_text_generator(LMConfig(backend="local", engine="llama_cpp", n_ctx=2048, n_threads=2))
