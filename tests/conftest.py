"""Shared fixtures: every test gets its own empty workspace through AIGC_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def aigc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "aigc-home"
    monkeypatch.setenv("AIGC_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def lm_fallback_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of the transformers fallback's dequantised model for the whole session: building it
    from the GGUF takes about 20 s, loading it back a few."""
    return tmp_path_factory.mktemp("lm-fallback-cache")
