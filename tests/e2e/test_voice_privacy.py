"""After a busy stretch of calls, no caller's number is in a log line, SQL row, job or Redis."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from tests.support.privacy import assert_absent, number_forms, redis_dump, sql_dump
from warmline.logs import NumberMaskingFilter
from warmline.queues import QueueName

CALLERS = ["+15005550011", "+15005550012", "+15005550013", "+15005550014"]


class _Capture(logging.Handler):
    """Everything logged anywhere, as emitted before any masking filter could help."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logs() -> Iterator[_Capture]:
    capture = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    # The masking filter is a safety net; this test checks the code never needs it.
    masked = [h for h in root.handlers if any(isinstance(f, NumberMaskingFilter) for f in h.filters)]
    assert capture not in masked
    yield capture
    root.removeHandler(capture)
    root.setLevel(previous)


def _job_arguments(live: LiveWarmline) -> str:
    redis = live.runtime.redis
    parts: list[str] = []
    for name in QueueName:
        queue = Queue(name.value, connection=redis)
        ids = set(queue.job_ids)
        for registry in (FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry):
            ids |= set(registry(name.value, connection=redis).get_job_ids())
        for job in queue.job_class.fetch_many(list(ids), connection=redis):
            if job is not None:
                parts.append(f"{job.func_name} {job.args!r} {job.kwargs!r}")
    return "\n".join(parts)


def test_no_caller_number_anywhere_after_calls(live: LiveWarmline, logs: _Capture) -> None:
    live.import_roster(ROSTER)
    live.peer(SAM)
    live.peer(LEE, mode="no_answer")
    live.go_available(live.peer_id("sam@example.org"), live.peer_id("lee@example.org"))
    bridged = live.standin.caller(CALLERS[0], press={"For Substance use recovery": "1"}).dial(LINE)
    bridged.wait_until_bridged(timeout=60)
    in_menu = live.standin.caller(CALLERS[1]).dial(LINE)
    in_menu.wait_until_heard("not a crisis line", timeout=60)
    in_menu.hang_up()
    callback = live.standin.caller(CALLERS[2], press={
        "For Veteran": "4", "To be called back instead, press 1": "1", "To use it, press 1": "1",
        "as soon as a peer is free, press 1": "1", "Press 1 for yes": "1"}).dial(LINE)
    callback.wait_until_heard("A peer will call you back", timeout=60)
    crisis = live.standin.caller(CALLERS[3], press={"press 0": "9"}).dial(LINE)
    crisis.wait_until_heard("crisis counselor now", timeout=60)
    bridged.hang_up()
    for call in (bridged, in_menu, crisis):
        live.outcome_of(call.sid)

    needles = [form for number in CALLERS for form in number_forms(number)]
    assert len(logs.lines) > 20, "the capture saw the app's logging"
    assert_absent("\n".join(logs.lines), needles, "the logs")
    assert_absent(sql_dump(live.runtime), needles, "SQL")
    assert_absent(_job_arguments(live), needles, "job arguments")
    # Redis: nothing in clear; the callback draft is gone, the live call state holds no number.
    assert_absent(redis_dump(live.runtime, decrypt=False), needles, "Redis")
