"""Treating termination signals like Ctrl-C, so clean-up code runs.

CI timeouts, `timeout` and closed terminals end a process with SIGTERM or
SIGHUP, whose default action kills it on the spot: any container it was
starting would stay behind. Inside `termination_as_interrupt()` those signals
raise KeyboardInterrupt instead, which the services already handle by
removing what they created; `interrupts_deferred()` keeps a further signal
from cutting that removal short.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
DEFERRED_SIGNALS = (signal.SIGINT, *TERMINATION_SIGNALS)


class Received:
    """The termination signal that arrived, if any."""

    number: int | None = None


@contextmanager
def termination_as_interrupt() -> Iterator[Received]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while the block runs."""
    received = Received()

    def interrupt(number: int, frame: FrameType | None) -> None:
        received.number = number
        raise KeyboardInterrupt

    with _handling(TERMINATION_SIGNALS, interrupt):
        yield received


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and termination signals until the block (a clean-up) ends.

    A second Ctrl-C while a container is being removed must not cut the
    removal short; the interrupt is raised once the block is done.
    """
    arrived: list[int] = []

    def remember(number: int, frame: FrameType | None) -> None:
        arrived.append(number)

    with _handling(DEFERRED_SIGNALS, remember):
        yield
    if arrived:
        # Hand the first one on to whatever handled it before.
        signal.raise_signal(arrived[0])


@contextmanager
def _handling(
    numbers: tuple[int, ...], handler: Callable[[int, FrameType | None], None]
) -> Iterator[None]:
    """Install `handler` for `numbers` during the block, then restore the old ones."""
    if threading.current_thread() is not threading.main_thread():
        # Signal handlers can only be set from the main thread.
        yield
        return

    previous = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
