"""The durable facts of a peer's working time, recorded as they happen (see peers/hours.py for
the report built from them): a job on the slow `events` queue writes each one, so routing never
waits on SQL and a fact survives a database blip."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.dialects import postgresql, sqlite

from warmline import jobs
from warmline.models import PeerActivity
from warmline.runtime import Runtime

log = logging.getLogger(__name__)



class ActivityKind(StrEnum):
    PRESENCE = "presence"
    CONTACT = "contact"
    MISSED = "missed"
    BACK_TO_BACK = "back_to_back"


def record_activity(runtime: Runtime, peer_id: int, kind: ActivityKind, at: datetime, *,
                    state: str = "", line_id: int | None = None) -> None:
    """Enqueue one fact; never raises (a report must not stand in the way of routing)."""
    key = uuid.uuid4().hex
    try:
        jobs.WRITE_PEER_ACTIVITY.enqueue(
            runtime,
            kwargs={"key": key, "peer_id": peer_id, "kind": kind.value, "state": state,
                    "line_id": line_id, "at": at.astimezone(UTC).isoformat()},
            job_id=f"activity-{key}",
            description=f"peer activity {kind.value}",
        )
    except Exception as exc:  # noqa: BLE001 - logged, counted in no report: routing goes on
        log.warning("peer %s activity %s not queued (%s)", peer_id, kind.value, type(exc).__name__)


def store_activity(runtime: Runtime, *, key: str, peer_id: int, kind: str, state: str,
                   line_id: int | None, at: str) -> bool:
    """The job's body: insert once (a retried job inserts nothing)."""
    values = {"key": key, "peer_id": peer_id, "kind": ActivityKind(kind).value,
              "state": state[:16], "line_id": line_id, "at": datetime.fromisoformat(at)}
    with runtime.sessions.begin() as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = (insert(PeerActivity).values(**values)
                     .on_conflict_do_nothing(index_elements=["key"]).returning(PeerActivity.id))
        return session.execute(statement).scalar_one_or_none() is not None
