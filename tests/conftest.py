"""Shared fixtures: every test gets its own empty workspace through AIGC_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def aigc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "aigc-home"
    monkeypatch.setenv("AIGC_HOME", str(home))
    return home
