"""TurnLock: callers served in arrival order, each told how many are ahead."""

from __future__ import annotations

import threading
import time

import pytest

from shared_models.turns import TurnLock, report_waits


def test_waiters_are_served_in_arrival_order_and_told_their_place() -> None:
    lock = TurnLock()
    order: list[int] = []
    places: dict[int, list[int]] = {i: [] for i in range(3)}
    lock.acquire()  # the model is busy

    def caller(i: int) -> None:
        with report_waits(places[i].append), lock:
            order.append(i)

    threads = []
    for i in range(3):
        threads.append(threading.Thread(target=caller, args=(i,)))
        threads[-1].start()
        while lock.waiting < i + 1:
            time.sleep(0.01)
    time.sleep(0.6)  # every waiter reports at least twice
    lock.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2]
    assert places[0][0] == 1 and places[1][0] == 2 and places[2][0] == 3  # the holder counts as ahead
    assert all(p[-1] == 0 for p in places.values())  # and each is told when its turn comes


def test_reentrant_for_the_holder_and_a_caller_that_gives_up_leaves_the_queue() -> None:
    lock = TurnLock()
    with lock, lock:
        pass
    lock.acquire()

    def impatient(ahead: int) -> None:
        raise KeyboardInterrupt  # as a rerun of the page would

    failed = []

    def caller() -> None:
        try:
            with report_waits(impatient), lock:
                pass
        except KeyboardInterrupt:
            failed.append(True)

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(5)
    assert failed and lock.waiting == 0
    lock.release()
    with lock:  # nobody is stuck in front
        pass
    with pytest.raises(RuntimeError):
        lock.release()
