"""The alerter's spans for the OpenTelemetry export (``workers.infra.otel``): ``enqueue`` per alert put in a
subscriber's outbox, ``deliver`` per POST. Called only while the export is on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workers.alerter.outbox import Outgoing
from workers.infra import otel


def enqueue(
    batches: Mapping[str, tuple[bool, list[Outgoing]]], parents: Mapping[str, str | None], start: float, end: float
) -> None:
    """One span per alert of a batch: its id is the alert's ``trace.traceparent``, its parent the match record's."""
    for subscriber, (_digest, outgoing) in batches.items():
        for out in outgoing:
            alert = out.item.alert
            own = (alert.get("trace") or {}).get("traceparent")
            story = (alert.get("story") or {}).get("id")
            if own:
                otel.span(
                    "enqueue", own, parents.get(story or ""), start, end, subscriber=subscriber, alert=out.item.id
                )


def deliver(
    own: str | None, parent: str | None, start: float, end: float, item: Any, status: int, outcome: str
) -> None:
    """The POST's span: its id is the request's ``traceparent`` header."""
    if own:
        otel.span(
            "deliver",
            own,
            parent,
            start,
            end,
            subscriber=item.subscriber,
            alert=item.id,
            status=status,
            attempt=item.attempts + 1,
            outcome=outcome,
        )
