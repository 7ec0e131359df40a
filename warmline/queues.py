"""The RQ queues, by urgency, and which worker process serves which."""

from __future__ import annotations

from enum import StrEnum


class QueueName(StrEnum):
    FAST = "fast"  # sub-second jobs a caller waits on: ringing a peer, a wrap-up's end
    CALLS = "calls"  # ringing peers, callbacks, per-call deadlines
    MESSAGES = "messages"  # sending texts
    ROUTING = "routing"  # match passes and the sweeper
    EVENTS = "events"  # the anonymized event log
    MAINTENANCE = "maintenance"  # aggregates, retention, reports


# A non-forking worker serves these (workers/main.py `fast`, started by the `worker` process):
# RQ's fork of a work horse per job, and the connections each horse opens again, were most of
# "peer available -> the peer's phone rings". Only short jobs belong here: one at a time, so a
# slow one would hold up the next ring.
FAST_QUEUES: tuple[QueueName, ...] = (QueueName.FAST,)
# The Procfile's `worker` serves these, in this order of preference, with RQ's scheduler on.
URGENT_QUEUES: tuple[QueueName, ...] = (QueueName.CALLS, QueueName.ROUTING, QueueName.MESSAGES)
# The Procfile's `worker_low`: slow work that must never delay a ring.
SLOW_QUEUES: tuple[QueueName, ...] = (QueueName.EVENTS, QueueName.MAINTENANCE)
