"""The retry schedule: how long a failed item waits before its next attempt.

Retries are a state of the subscriber's outbox queue (``workers.alerter.outbox``): a failed item stays in
the queue with a later due time. The retry queue of earlier versions is drained into the outbox by
``workers.alerter.legacy``.
"""

from __future__ import annotations

import random


def retry_delay(schedule: list[float], attempts: int, rand: random.Random) -> float | None:
    """Delay before the next attempt after ``attempts`` failures, with +-10% jitter; None when exhausted."""
    if attempts > len(schedule):
        return None
    return schedule[max(attempts, 1) - 1] * (1 + rand.uniform(-0.1, 0.1))
