from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.services.recommend import MODELS
from suite.capabilities.recommender import views as recommender_views
from suite.capabilities.recommender.cli import MODEL_NAMES
from suite.capabilities.recommender.runner import open_bundle
from suite.cli import main
from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.domains.services.recs_data import ScriptedLM, clustered_frame
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/recommender/page.py"
TRAIN_TIMEOUT_S = 180  # demo data, two models, both fitted twice, on 2 shared cores


def _frame(app: AppTest, column: str):
    """The first dataframe on the page that has ``column``."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def test_cli_model_names_match_the_registry() -> None:
    assert set(MODEL_NAMES) == set(MODELS)


def test_page_trains_compares_and_recommends_with_reasons(
    app: AppTest, aigc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real language core is exercised by the Text Lab tests; here a scripted one keeps it fast.
    lm = ScriptedLM("A sharp pick for you. It won 7 Oscars in Paris.")
    monkeypatch.setattr(recommender_views, "get_text_generator", lambda: lm)
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("Train and compare" in i.value for i in app.info)
    app.multiselect(key="recommender.models").set_value(["popularity", "ease"])
    app.button(key="recommender.train").click()
    run_until_jobs_end(app, TRAIN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Run 1: model comparison"]
    table = _frame(app, "recall@20").set_index("model")
    assert table.loc["EASE", "recall@20"] > table.loc["Popularity", "recall@20"]
    recs = _frame(app, "because you liked")
    assert len(recs) == 10 and recs["because you liked"].str.len().gt(0).all()
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Download metrics (CSV)", "Download recommendations (CSV)"} <= downloads
    similar = _frame(app, "similarity")
    assert len(similar) == 10 and similar["similarity"].is_monotonic_decreasing

    app.button(key="recommender.copy").click().run()
    assert [s.value for s in app.subheader][-1] == "Personalised copy"
    pitches = [m.value for m in app.markdown if m.value.endswith("A sharp pick for you.")]
    assert len(pitches) == 3 and pitches[0].startswith(f"**{recs['title'].iloc[0]}**")
    assert any("Removed 1 sentence(s)" in c.value for c in app.caption)  # the invented Oscars and Paris

    app.radio(key="recommender.who").set_value("A new user").run()
    assert any("Pick a few items" in i.value for i in app.info)
    app.multiselect(key="recommender.likes").set_value([0, 1, 2]).run()
    new = _frame(app, "because you liked")
    picked = set(app.multiselect(key="recommender.likes").options[:3])
    assert len(new) == 10 and not set(new["title"]) & picked

    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "recs.train" and record.status == "done"
    assert {"metrics.csv", "bundle"} <= set(record.artifacts)
    assert record.metrics["ease.strong.ndcg@100"] > record.metrics["popularity.strong.ndcg@100"]


def test_page_checks_uploads_before_training(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.radio(key="recommender.source").set_value("Upload CSV").run()
    assert app.button(key="recommender.train").disabled  # nothing uploaded yet
    app.file_uploader(key="recommender.upload").set_value(
        ("x.csv", b"user,item\n1,2\n1,2\n", "text/csv")
    ).run()
    assert not app.exception
    assert any("duplicate (user, item) pairs" in e.value for e in app.error)
    assert app.button(key="recommender.train").disabled
    frame, _ = clustered_frame()
    app.file_uploader(key="recommender.upload").set_value(
        ("good.csv", frame.to_csv(index=False).encode(), "text/csv")
    ).run()
    assert not app.error and any(c.value.startswith("Kept ") for c in app.caption)
    assert not app.button(key="recommender.train").disabled
    assert Workspace(aigc_home).count_runs() == 0


def _write_csv(folder: Path) -> Path:
    frame, meta = clustered_frame()
    path = folder / "interactions.csv"
    frame.to_csv(path, index=False)
    meta.reset_index().to_csv(folder / "items.csv", index=False)
    return path


def test_cli_trains_then_recommends_from_the_saved_run(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(tmp_path)
    args = [
        "recs",
        "train",
        str(path),
        "--items",
        str(tmp_path / "items.csv"),
        "--model",
        "ease",
        "--model",
        "item-knn",
        "--min-user-items",
        "3",
        "--min-item-users",
        "2",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("run 1:") and "EASE" in out and "ndcg@100" in out
    assert main(["recs", "recommend", "1", "--user", "u4", "--n", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5] and all(r["because you liked"] for r in rows)
    assert main(["recs", "recommend", "1", "--likes", "i0,i1", "--model", "item-knn"]) == 0
    assert "Film" in capsys.readouterr().out
    assert main(["recs", "similar", "1", "--item", "i0", "--n", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    assert main(["recs", "recommend", "1", "--user", "nobody"]) == 2
    assert "unknown user 'nobody'" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item\n1,2\n1,2\n")
    assert main(["recs", "train", str(bad)]) == 2
    assert "duplicate (user, item) pairs" in capsys.readouterr().err


def _wait_for_message(home: Path, text: str, timeout: float) -> None:
    """Wait until the running job reports ``text`` (progress reaches the job table twice a second)."""
    store = JobStore(Workspace(home))
    deadline = time.monotonic() + timeout
    while not any(text in job.message for job in store.list(statuses=["running"])):
        assert time.monotonic() < deadline, f"no job said {text!r} within {timeout} s"
        time.sleep(0.2)


def test_a_reloaded_page_finds_the_training_and_a_stop_keeps_the_finished_models(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.multiselect(key="recommender.models").set_value(["popularity", "item-knn", "mult-vae"])
    app.button(key="recommender.train").click().run()
    assert app.button(key="recommender.train").disabled  # one training at a time per page
    _wait_for_message(aigc_home, "Mult-VAE", TRAIN_TIMEOUT_S)  # the first two models are done
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="recommender.train").disabled
    reloaded.button(key="recommender.stop").click().run()
    run_until_jobs_end(reloaded, TRAIN_TIMEOUT_S)
    assert not reloaded.exception, reloaded.exception
    assert any("Training was stopped" in w.value for w in reloaded.warning), reloaded.warning
    assert [s.value for s in reloaded.subheader] == ["Run 1: model comparison"]
    assert set(_frame(reloaded, "recall@20")["model"]) == {"Popularity", "Item-kNN"}
    assert len(_frame(reloaded, "because you liked")) == 10  # the kept models serve at once
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    assert set(open_bundle(Workspace(aigc_home), 1).models) == {"popularity", "item-knn"}
