"""What every daemon shares: the stop flag set by SIGTERM/SIGINT, the run loop, logging set-up.

The signal handler only sets the flag; the loop notices it within one poll (<= 1 s), then the daemon
commits, flushes and closes in ``finally``. A second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)


class Stopper:
    def __init__(self) -> None:
        self.event = threading.Event()

    @property
    def stopping(self) -> bool:
        return self.event.is_set()

    def stop(self) -> None:
        self.event.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True when a stop was asked meanwhile."""
        return self.event.wait(seconds)

    def install(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            if self.event.is_set():
                logger.warning("second signal %s: exiting now", signal.Signals(signum).name)
                os._exit(1)
            logger.info("signal %s: finishing the current batch, then stopping", signal.Signals(signum).name)
            self.event.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def run_loop(
    name: str,
    run_once: Callable[[], object],
    stopper: Stopper,
    *,
    error_backoff: float = 1.0,
    max_backoff: float = 30.0,
) -> None:
    """Call run_once until stopped. An unexpected error is logged and retried with backoff, never fatal."""
    backoff = error_backoff
    while not stopper.stopping:
        try:
            run_once()
            backoff = error_backoff
        except Exception:
            logger.exception("%s: iteration failed; retrying in %.1fs", name, backoff)
            if stopper.sleep(backoff):
                break
            backoff = min(max_backoff, backoff * 2)


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("WIREWATCH_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)  # "task ran for 0.13s" noise on a busy core
    logging.getLogger("httpx").setLevel(logging.WARNING)
