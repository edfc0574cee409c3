from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from suite.app import APP_TITLE
from suite.capabilities import CAPABILITIES, SECTIONS
from suite.workspace import Workspace


def test_home_shows_title_and_recent_runs(app: AppTest, aigc_home: Path) -> None:
    ws = Workspace(aigc_home)
    with ws.start_run("lab.train", {"model": "cvae"}) as run:
        run.log_metrics({"accuracy": 0.931})
    with pytest.raises(ValueError), ws.start_run("lab.sample"):
        raise ValueError("bad seed")

    app.run()

    assert not app.exception
    assert app.title[0].value == APP_TITLE
    assert [s.value for s in app.subheader] == ["Capabilities", "Jobs", "Recent runs"]
    table = app.dataframe[0].value
    assert list(table["Run"]) == [2, 1]
    assert list(table["Capability"]) == ["Image generators · sample", "Image generators · train"]
    assert table["Status"].str.contains("failed").iloc[0]
    assert "accuracy=0.931" in table["Metrics"].iloc[1]
    assert "ValueError: bad seed" in table["Note"].iloc[0]
    assert any("2 runs in" in c.value for c in app.caption)


def test_home_on_an_empty_workspace_says_there_are_no_runs(app: AppTest, aigc_home: Path) -> None:
    app.run()
    assert not app.exception
    assert len(app.dataframe) == 0
    assert any("No runs yet" in i.value for i in app.info)
    assert (aigc_home / "runs.db").is_file()


def test_corrupt_workspace_shows_an_error_naming_the_file(app: AppTest, aigc_home: Path) -> None:
    aigc_home.mkdir(parents=True)
    (aigc_home / "runs.db").write_bytes(b"\x00garbage" * 100)
    app.run()
    assert not app.exception
    assert len(app.error) == 1
    assert str(aigc_home / "runs.db") in app.error[0].value
    assert app.title[0].value == APP_TITLE  # the rest of the page still renders above the error


def test_sidebar_names_the_workspace(app: AppTest, aigc_home: Path) -> None:
    app.run()
    assert any(str(aigc_home) in c.value for c in app.sidebar.caption)


def test_every_listed_capability_has_its_page_and_a_known_section() -> None:
    ids = [c.id for c in CAPABILITIES]
    assert len(ids) == len(set(ids))
    for capability in CAPABILITIES:
        assert capability.page_path.is_file(), capability.page
        assert capability.section in SECTIONS


def test_home_lists_a_running_job_of_another_session_and_stops_it(app: AppTest, aigc_home: Path) -> None:
    from suite.jobs import get_job_service
    from tests.suite import job_targets

    jobs = get_job_service(Workspace(aigc_home))
    job = jobs.submit(
        "strategy-studio",
        "search",
        job_targets.recorded_count,
        str(aigc_home),
        100_000,
        0.02,
        title="200 trials",
    )
    deadline = time.monotonic() + 120  # generous: a loaded 2-core machine
    while job.snapshot().status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    app.run()
    assert not app.exception, app.exception
    assert any(
        "Strategy Studio" in p.proto.text and "200 trials" in p.proto.text for p in app.get("progress")
    )
    app.button(key=f"home.stop.{job.id}").click().run()
    deadline = time.monotonic() + 60
    while job.running:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job.snapshot().status == "cancelled"
    app.run()
    assert any("No job is running" in c.value for c in app.caption)
    table = app.dataframe[0].value
    assert table["Capability"].iloc[0] == "tests.count" and table["Status"].iloc[0] == "cancelled"
