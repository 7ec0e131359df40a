"""The RQ queues, by urgency, and which worker process serves which."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    CALLS = "calls"  # ringing peers, callbacks, per-call deadlines
    MESSAGES = "messages"  # sending texts
    ROUTING = "routing"  # match passes and the sweeper
    EVENTS = "events"  # the anonymized event log
    MAINTENANCE = "maintenance"  # aggregates, retention, reports


# The Procfile's `worker` serves these, in this order of preference, with RQ's scheduler on.
URGENT_QUEUES: tuple[QueueName, ...] = (QueueName.CALLS, QueueName.ROUTING, QueueName.MESSAGES)
# The Procfile's `worker_low`: slow work that must never delay a ring.
SLOW_QUEUES: tuple[QueueName, ...] = (QueueName.EVENTS, QueueName.MAINTENANCE)
