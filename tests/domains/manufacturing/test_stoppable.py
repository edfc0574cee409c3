"""`run_stoppable`: a call's value, its error, or `Stopped` as soon as a stop is requested."""

from __future__ import annotations

import threading
import time

import pytest

from domains.manufacturing.stoppable import Stopped, run_stoppable


def test_returns_the_value_and_raises_the_error_of_the_call() -> None:
    stop = threading.Event()
    assert run_stoppable(lambda: 41 + 1, stop) == 42
    assert run_stoppable(lambda: "direct", None) == "direct"
    with pytest.raises(ZeroDivisionError):
        run_stoppable(lambda: 1 / 0, stop)


def test_a_stop_ends_the_wait_before_the_call_finishes() -> None:
    stop = threading.Event()
    release = threading.Event()
    waits: list[float] = []
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(Stopped):
        run_stoppable(lambda: release.wait(30), stop, on_wait=waits.append, wait_report_s=0.1)
    assert not release.is_set() and waits and waits == sorted(waits)  # still busy, and said so
    release.set()
    stop.set()
    with pytest.raises(Stopped):  # already stopped: the call does not even start
        run_stoppable(lambda: time.sleep(30), stop)
