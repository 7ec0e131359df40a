"""A job that fails for good is recorded as clean as a log line: Twilio's error messages name the
number they refused, and RQ keeps a failed job's traceback for a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import Job
from rq.registry import FailedJobRegistry

from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from tests.support.workers import release_scheduled
from warmline.jobs import SEND_TEXTS
from warmline.logs import MASK
from warmline.queues import QueueName


def test_a_send_that_fails_for_good_keeps_no_number_in_its_record(world: TextWorld) -> None:
    texter_number, peer_number = new_number(), new_number()
    world.add_peer("ria", phone=peer_number)
    world.go_available("ria")
    texter = world.texter(texter_number)
    texter.text(LINE_NUMBER, "hello")
    contact_id = world.accept_next("ria")
    world.wait_text(texter, "A peer has joined")  # sent before the outage begins
    # Every attempt, first and retries, meets an outage whose message echoes the number.
    world.standin.fail_rest("Messages", status=503, code=20503,
                            message="Service unavailable: could not reach {To} from {From}",
                            times=1 + len(SEND_TEXTS.retries))
    status, _ = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                          {"body": "Hi, I'm here."})
    assert status == 202
    failed = FailedJobRegistry(queue=world.runtime.queue(QueueName.MESSAGES))

    def failed_for_good() -> list[str]:
        # Retries wait seconds to minutes: move them in at once, as the scheduler would later.
        release_scheduled(world.runtime, [QueueName.MESSAGES],
                          datetime.now(UTC) + timedelta(hours=1))
        return failed.get_job_ids()

    job_ids = world.settle(failed_for_good, timeout=60, what="the send job failing for good")
    assert len(world.standin.events("rest_failure_injected")) == 1 + len(SEND_TEXTS.retries)
    job = Job.fetch(job_ids[0], connection=world.runtime.redis)
    result = job.latest_result()
    assert result is not None and result.exc_string
    records = [result.exc_string, str(job.args), str(job.kwargs), job.description or ""]
    assert "Twilio error 20503" in result.exc_string and MASK in result.exc_string
    for record in records:
        for number in (texter_number, peer_number):
            assert number not in record and number[-7:] not in record, record
