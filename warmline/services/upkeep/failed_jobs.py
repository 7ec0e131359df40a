"""What admins see of background jobs that failed for good, with no personal data in it.

Jobs take ids only (events.py checks its own), but an exception's message can quote anything
(a SQL parameter, a URL), so the summary keeps the exception's *type* and drops its message and
traceback; argument values are shown only for keys that name ids, kinds and times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rq.job import Job
from rq.registry import FailedJobRegistry

from warmline import epoch
from warmline.queues import QueueName
from warmline.runtime import Runtime

# Argument names whose values are ids, enum values or times: safe to show.
SHOWN_ARGUMENTS = frozenset(
    {
        "contact_id",
        "line_id",
        "peer_id",
        "callback_id",
        "attempt_id",
        "event_key",
        "kind",
        "channel",
        "outcome",
        "name",
        "slot",
        "at",
        "shift_id",
    }
)
HIDDEN = "…"
_EXCEPTION_TYPE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


@dataclass(frozen=True)
class FailedJob:
    job_id: str
    queue: str
    function: str
    arguments: dict[str, object]
    exception_type: str
    failed_at: datetime | None


def exception_type_of(exc_string: str | None) -> str:
    """The exception's dotted type name from a traceback's last line, never its message."""
    if not exc_string:
        return "unknown"
    lines = [line for line in exc_string.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown"
    match = _EXCEPTION_TYPE.match(lines[-1].strip())
    return match.group(1) if match else "unknown"


def _shown_arguments(job: Job) -> dict[str, object]:
    shown: dict[str, object] = {}
    try:
        kwargs = dict(job.kwargs)
        positional = len(job.args)
    except Exception:  # noqa: BLE001 - an unreadable payload is shown as hidden, not raised
        return {"payload": HIDDEN}
    for key, value in kwargs.items():
        shown[key] = value if key in SHOWN_ARGUMENTS and isinstance(value, str | int | None) else HIDDEN
    if positional:
        shown["positional"] = f"{positional} hidden"
    return shown


def failed_jobs_summary(runtime: Runtime, limit_per_queue: int = 200) -> list[FailedJob]:
    """Failed jobs of every queue, newest first: function, queue, shown ids, exception type, when."""
    summary: list[FailedJob] = []
    for name in QueueName:
        queue = runtime.queue(name)
        registry = FailedJobRegistry(queue=queue)
        job_ids = registry.get_job_ids(0, limit_per_queue - 1, desc=True)
        for job in Job.fetch_many(job_ids, connection=runtime.jobs_redis):
            if job is None:
                continue
            result = job.latest_result()
            summary.append(
                FailedJob(
                    job_id=job.id,
                    queue=name.value,
                    function=job.func_name or "unknown",
                    arguments=_shown_arguments(job),
                    exception_type=exception_type_of(result.exc_string if result else None),
                    failed_at=job.ended_at,
                )
            )
    # RQ's own times may be naive (UTC) or aware: compared as epoch seconds, newest first.
    summary.sort(key=lambda item: epoch.seconds(item.failed_at) if item.failed_at else 0.0,
                 reverse=True)
    return summary
