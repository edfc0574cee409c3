"""The job system as users meet it: page script-run times with a job running, Stop latency, chat
latency for one and three concurrent sessions, and the CLI's start-up.

Figures:
- Each page's script run (AppTest, warm caches) with no job, then while a Strategy Studio search runs
  in a worker: the ratio shows whether a running job slows the pages (it should not freeze them).
- Stop -> job ended, for a cooperative job (a search between trials) and for one that ignores the stop
  (terminated after the grace period).
- Support Chat answers (the bundled model, in-process as the app serves them): p50/p95 for one session
  alone and for three sessions asking at once, as ratios to the solo figure.
- `aigc runs list` against a bare `import torch`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.benchmarks import Figure

if TYPE_CHECKING:
    from shared_models.lm import TextGenerator
    from suite.jobs import JobHandle

CHAT_QUESTIONS = [
    "How long does standard delivery take?",
    "How do I return an item?",
    "Can I change my delivery address?",
    "Do you ship to Switzerland?",
]
PAGES_TIMED = 3  # script runs per page and condition; the median is reported


def _page_runs(home: Path) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    from suite.capabilities import CAPABILITIES
    from tests.suite.conftest import APP_FILE

    times: dict[str, float] = {}
    for capability in CAPABILITIES:
        app = AppTest.from_file(APP_FILE, default_timeout=120).run()  # registers the pages
        app.switch_page(str(capability.page_path.relative_to(Path(APP_FILE).parent))).run()  # warm
        samples = []
        for _ in range(PAGES_TIMED):
            start = time.perf_counter()
            app.run()
            samples.append(time.perf_counter() - start)
        times[capability.title] = statistics.median(samples)
    return times


def _long_search(home: Path) -> JobHandle:
    from domains.finance.strategy.search import SearchSpec
    from domains.finance.strategy.universe import load_universe
    from suite.capabilities.strategy_studio.runner import search_job
    from suite.jobs import get_job_service
    from suite.workspace import Workspace

    workspace = Workspace(home)
    spec = SearchSpec(trials=2000, scenario_kind="garch")
    job = get_job_service(workspace).submit(
        "strategy-studio", "search", search_job, workspace, load_universe("stocks3"), spec, None
    )
    while job.snapshot().progress is None or job.snapshot().progress.step < 1:
        time.sleep(0.1)
    return job


def _stop_seconds(job: JobHandle) -> float:
    start = time.perf_counter()
    job.request_stop()
    while job.running:
        time.sleep(0.02)
    return time.perf_counter() - start


def _page_figures(home: Path) -> list[Figure]:
    idle = _page_runs(home)
    job = _long_search(home)
    busy = _page_runs(home)
    stop = _stop_seconds(job)
    figures = [
        Figure(
            "jobs",
            f"{title}: script run with a search running",
            busy[title],
            "s",
            f"idle {idle[title]:.2f} s, ratio {busy[title] / max(idle[title], 1e-6):.2f}",
        )
        for title in idle
    ]
    worst = max(busy[t] / max(idle[t], 1e-6) for t in idle)
    figures.append(Figure("jobs", "worst page slow-down with a job running", worst, "x", "busy / idle"))
    figures.append(
        Figure("jobs", "Stop -> search job ended (cooperative)", stop, "s", "Strategy Studio, GARCH")
    )
    return figures


def _stubborn_stop_seconds(home: Path) -> float:
    from suite.jobs import get_job_service
    from suite.workspace import Workspace
    from tests.suite import job_targets

    job = get_job_service(Workspace(home)).submit("tests", "stubborn", job_targets.stubborn, str(home))
    while job.snapshot().status != "running" or job.snapshot().progress.message != "busy in native code":
        time.sleep(0.05)
    return _stop_seconds(job)


def _chat_latencies(home: Path, sessions: int, lm: TextGenerator) -> list[float]:
    from domains.services.chatbot import ChatSession, SupportBot, SupportStore
    from suite.capabilities.support_chat.runner import ensure_demo_kb, store_path

    store = SupportStore(str(store_path(home)))
    ensure_demo_kb(store)
    bot = SupportBot(store, "demo", lm)
    bot.rate_limiter.check = lambda session_id: None  # the bench asks faster than a person
    latencies: list[float] = []
    lock = threading.Lock()

    def session() -> None:
        for question in CHAT_QUESTIONS:
            start = time.perf_counter()
            "".join(bot.respond(ChatSession(), question))
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=session) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _chat_figures(home: Path) -> list[Figure]:
    from shared_models.lm import build_text_generator

    lm = build_text_generator()  # one per process, shared by sessions, as in the app
    solo = _chat_latencies(home, 1, lm)
    three = _chat_latencies(home, 3, lm)
    s50, s95 = _percentile(solo, 0.5), _percentile(solo, 0.95)
    t50, t95 = _percentile(three, 0.5), _percentile(three, 0.95)
    n = len(CHAT_QUESTIONS)
    return [
        Figure("jobs", "chat answer p50, 1 session", s50, "s", f"{n} questions, bundled SmolLM2-135M"),
        Figure("jobs", "chat answer p95, 1 session", s95, "s", ""),
        Figure("jobs", "chat answer p50, 3 sessions at once", t50, "s", f"ratio to solo {t50 / s50:.2f}"),
        Figure("jobs", "chat answer p95, 3 sessions at once", t95, "s", f"ratio to solo {t95 / s95:.2f}"),
    ]


def _cli_figures() -> list[Figure]:
    def seconds(args: list[str]) -> float:
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    aigc = seconds([sys.executable, "-m", "suite.cli", "runs", "list"])
    torch = seconds([sys.executable, "-c", "import torch"])
    return [
        Figure(
            "jobs", "aigc runs list (process start to exit)", aigc, "s", f"import torch alone: {torch:.2f} s"
        ),
    ]


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        previous = os.environ.get("AIGC_HOME")
        os.environ["AIGC_HOME"] = str(home)
        try:
            figures = _page_figures(home)
            stubborn = _stubborn_stop_seconds(home)
            figures.append(
                Figure(
                    "jobs", "Stop -> job ended (ignores the stop)", stubborn, "s", "grace 2.5 s, then SIGTERM"
                )
            )
            figures += _chat_figures(home)
            figures += _cli_figures()
        finally:
            from suite.jobs.service import shutdown_job_services

            shutdown_job_services()
            if previous is None:
                os.environ.pop("AIGC_HOME", None)
            else:
                os.environ["AIGC_HOME"] = previous
    return figures
