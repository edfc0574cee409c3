"""The layers import one way only: suite -> domains -> shared_models; only suite imports streamlit, and
within suite the runners (which job workers import) stay free of the UI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "shared_models": {"streamlit", "suite", "domains"},
    "domains": {"streamlit", "suite"},
}
# Runners run inside job workers and the CLI: no Streamlit, nothing that draws or caches for a page.
RUNNER_FORBIDDEN = ("streamlit", "suite.components", "suite.pages", "suite.resources", "suite.app")


def imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, dotted in full (``from a import b`` counts as ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_layers_or_streamlit(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files found under {package}/"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_top_modules(f) & FORBIDDEN[package]) for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_sees_both_import_forms(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\nfrom suite.workspace import Workspace\nfrom . import x\n")
    assert imported_top_modules(sample) == {"streamlit", "suite"}


def test_runners_do_not_import_the_ui() -> None:
    # a capability's runner (and the report module Risk Lab's runner writes with) run in job workers
    files = sorted((ROOT / "suite" / "capabilities").glob("*/runner.py"))
    files += sorted((ROOT / "suite" / "capabilities").glob("*/report.py"))
    assert files, "no runners found"

    def forbidden(module: str) -> bool:
        ui = re.fullmatch(r"suite\.capabilities\.\w+\.(page|views|voice|topology_handoff)(\..*)?", module)
        return ui is not None or any(module == f or module.startswith(f + ".") for f in RUNNER_FORBIDDEN)

    offenders = {str(f.relative_to(ROOT)): sorted(filter(forbidden, imported_modules(f))) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_full_name_checker_sees_both_import_forms(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit\nfrom suite import components\nfrom suite.jobs import JobView\n")
    expected = {"streamlit", "suite", "suite.components", "suite.jobs", "suite.jobs.JobView"}
    assert imported_modules(sample) == expected
