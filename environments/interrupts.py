"""Treating termination signals like Ctrl-C, so clean-up code runs.

CI timeouts, `timeout` and closed terminals end a process with SIGTERM or
SIGHUP, whose default action kills it on the spot: any container it was
starting would stay behind. Inside `termination_as_interrupt()` those signals
raise KeyboardInterrupt instead, which the services already handle by
removing what they created.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Received:
    """The termination signal that arrived, if any."""

    number: int | None = None


@contextmanager
def termination_as_interrupt() -> Iterator[Received]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while the block runs."""
    received = Received()
    if threading.current_thread() is not threading.main_thread():
        # Signal handlers can only be set from the main thread.
        yield received
        return

    def interrupt(number: int, frame: FrameType | None) -> None:
        received.number = number
        raise KeyboardInterrupt

    previous = {
        number: signal.signal(number, interrupt) for number in TERMINATION_SIGNALS
    }
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
