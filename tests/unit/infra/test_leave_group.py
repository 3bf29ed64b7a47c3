"""never_leave_group swaps the one coroutine that sends LeaveGroup, and refuses a kafka-python without it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from workers.core.errors import WirewatchError
from workers.infra.kafka import never_leave_group


class Coordinator:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.reset = 0

    async def maybe_leave_group_async(self, reason: Any = None, timeout_ms: Any = None) -> None:
        self.sent.append("LeaveGroup")

    def reset_generation(self) -> None:
        self.reset += 1


class Consumer:
    def __init__(self, coordinator: Any) -> None:
        self._coordinator = coordinator


def test_the_member_is_forgotten_locally_and_nothing_is_sent() -> None:
    coordinator = Coordinator()
    never_leave_group(Consumer(coordinator))  # type: ignore[arg-type]
    asyncio.run(coordinator.maybe_leave_group_async(None, 1000))
    assert coordinator.sent == [] and coordinator.reset == 1


def test_a_kafka_python_without_the_coroutine_is_refused_with_the_setting_to_change() -> None:
    with pytest.raises(WirewatchError, match="kafka.leave_group_on_close: true"):
        never_leave_group(Consumer(object()))  # type: ignore[arg-type]
