"""First come, first served access to a model that answers one caller at a time, with places shown.

A local language model has one context, so concurrent callers wait. A plain lock lets them wait in
silence and in any order (one caller can wait for ever while later ones get in). `TurnLock` serves them
in arrival order and tells each waiting caller how many are ahead of it, through a callback that the
caller installs for its own thread with `report_waits`; the UI turns that into "2 questions ahead of
yours" instead of an empty bubble.

Example:
    >>> lock = TurnLock()
    >>> with report_waits(lambda ahead: print(f"{ahead} ahead")), lock:
    ...     pass  # the model is ours here
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator

__all__ = ["TurnLock", "report_waits"]

WaitCallback = Callable[[int], None]
REPORT_EVERY_S = 0.5
_local = threading.local()


@contextlib.contextmanager
def report_waits(callback: WaitCallback) -> Iterator[None]:
    """While inside, a `TurnLock` this thread waits on calls ``callback(ahead)`` about twice a second
    (``ahead`` callers are before this one), and ``callback(0)`` once its turn has come."""
    previous = getattr(_local, "callback", None)
    _local.callback = callback
    try:
        yield
    finally:
        _local.callback = previous


class TurnLock:
    """A lock granted in arrival order; re-entrant for the thread holding it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[int] = deque()
        self._next_ticket = 0
        self._owner: int | None = None
        self._depth = 0

    @property
    def waiting(self) -> int:
        """Callers waiting for a turn now (not counting the one holding it)."""
        with self._cond:
            return len(self._queue)

    def acquire(self) -> None:
        me = threading.get_ident()
        callback: WaitCallback | None = getattr(_local, "callback", None)
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            ticket = self._next_ticket
            self._next_ticket += 1
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._owner is None and self._queue[0] == ticket:
                        self._queue.popleft()
                        self._owner, self._depth = me, 1
                        break
                    ahead = self._queue.index(ticket) + (1 if self._owner is not None else 0)
                if callback is not None:
                    callback(ahead)  # outside the lock: it may draw, or raise if the page reruns
                with self._cond:
                    if self._owner is not None or self._queue[0] != ticket:
                        self._cond.wait(REPORT_EVERY_S)
        except BaseException:
            with self._cond:  # a caller that gives up (a rerun, a closed tab) leaves the queue
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._cond.notify_all()
            raise
        if callback is not None:
            callback(0)

    def release(self) -> None:
        # Any thread may release, as with a plain lock: a stream left half-read is closed (and its lock
        # released) by the garbage collector, in whichever thread runs it.
        with self._cond:
            if self._owner is None:
                raise RuntimeError("release of a TurnLock that nobody holds")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> TurnLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
