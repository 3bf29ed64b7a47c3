"""What every daemon shares: the stop and reload flags set by signals, the run loop, logging set-up.

Signals only set flags. SIGTERM/SIGINT: the loop notices within one poll (<= 1 s) and ends after the
current batch; the daemon then commits, flushes and closes, and exits 0. A watchdog started by the
first signal exits 1 if that takes longer than the shutdown timeout (default 30 s, below the 90 s of
systemd and the 30 s grace of Kubernetes once they are raised to match), and a second signal exits 1 at
once. SIGHUP: between two batches the loop calls the reload callback, so no in-flight work is lost.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from workers.infra.logs import setup_logging

__all__ = ["DEFAULT_SHUTDOWN_TIMEOUT", "Stopper", "run_loop", "settle_heap", "setup_logging", "with_backoff"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SHUTDOWN_TIMEOUT = 30.0


class Stopper:
    def __init__(self, shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT) -> None:
        self.event = threading.Event()
        self.reloads = 0  # SIGHUPs received; each run loop reloads when it has not seen the latest
        self.shutdown_timeout = shutdown_timeout
        self._watchdog: threading.Timer | None = None

    @property
    def stopping(self) -> bool:
        return self.event.is_set()

    def stop(self) -> None:
        self.event.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True when a stop was asked meanwhile."""
        return self.event.wait(seconds)

    def _arm_watchdog(self) -> None:
        def overdue() -> None:
            logger.error("shutdown took longer than timeout=%.0fs: exiting now", self.shutdown_timeout)
            logging.shutdown()
            os._exit(1)

        self._watchdog = threading.Timer(self.shutdown_timeout, overdue)
        self._watchdog.daemon = True
        self._watchdog.start()

    def disarm(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()

    def install(self) -> None:
        def on_stop(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self.event.is_set():
                logger.warning("second signal %s: exiting now", name)
                logging.shutdown()
                os._exit(1)
            logger.info(
                "signal %s: finishing the current batch, then stopping timeout=%.0fs", name, self.shutdown_timeout
            )
            self.event.set()
            self._arm_watchdog()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            logger.info("signal SIGHUP: reloading config after the current batch")
            self.reloads += 1

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)


def settle_heap() -> None:
    """Once a daemon is built, before its loops: what start-up allocated (modules, compiled topics, clients, the
    lexicon) lives as long as the process, so the cyclic collector need not walk it again at every full
    collection. Collect what start-up left as garbage, then move the rest out of the collector's sight
    (``gc.freeze``); what is allocated later is collected as before. Measured on the alerter at 10 subscribers, in
    three alternating pairs of runs: 0.94-1.09 ms of CPU per alert against 1.09-1.35 ms. A reload's new topics are
    allocated later, so they are collected as usual; the objects they replace are freed by reference counting
    (they hold no cycles)."""
    gc.collect()
    gc.freeze()


def run_loop(
    name: str,
    run_once: Callable[[], object],
    stopper: Stopper,
    *,
    reload: Callable[[], object] | None = None,
    after: Callable[[], object] | None = None,
    error_backoff: float = 1.0,
    max_backoff: float = 30.0,
) -> None:
    """Call run_once until stopped, ``reload`` between batches after a SIGHUP and ``after`` after each batch
    (metrics). An unexpected error is logged and retried with backoff, never fatal."""
    backoff = error_backoff
    reloads_seen = stopper.reloads
    while not stopper.stopping:
        if reload is not None and stopper.reloads != reloads_seen:
            reloads_seen = stopper.reloads
            reload()
        try:
            run_once()
            backoff = error_backoff
        except Exception:
            logger.exception("%s: iteration failed; retrying in %.1fs", name, backoff)
            if stopper.sleep(backoff):
                break
            backoff = min(max_backoff, backoff * 2)
        if after is not None:
            try:
                after()
            except Exception as exc:  # metrics must never stop the stream
                logger.debug("%s: after-batch hook failed error=%s", name, type(exc).__name__)


def with_backoff(what: str, fn: Callable[[], T], stopper: Stopper, max_delay: float = 30.0) -> T | None:
    """Call fn until it succeeds; None when a stop was asked while waiting."""
    delay = 0.5
    while not stopper.stopping:
        try:
            return fn()
        except Exception as exc:
            logger.warning("%s not reachable (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
            stopper.sleep(delay)
            delay = min(max_delay, delay * 2)
    return None
