"""The demo roster (demo/roster.yaml) imports and has every peer on shift at any moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.support.paths import REPO_ROOT
from tests.support.roster import import_text
from warmline.models import Line, Peer
from warmline.runtime import Runtime
from warmline.services import schedules

DEMO = (REPO_ROOT / "demo" / "roster.yaml").read_text()


def _instants() -> list[datetime]:
    now = datetime.now(UTC)
    # Now, the next two days hour by hour, and both 2026 DST changes in New York.
    around_dst = [datetime(2026, 3, 8, 6, 0, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]
    changes = [at + timedelta(minutes=30 * k) for at in around_dst for k in range(-4, 5)]
    return [now] + [now + timedelta(hours=h) for h in range(1, 49)] + changes


def test_demo_roster_covers_every_moment(runtime: Runtime) -> None:
    report = import_text(runtime, DEMO)
    assert report.peers.created >= 3 and report.experiences.created >= 3
    with runtime.sessions() as session:
        line = session.scalars(select(Line)).one()
        peers = session.scalars(select(Peer)).all()
        for experience in {e.key for peer in peers for e in peer.experiences}:
            sharing = [p for p in peers if experience in {e.key for e in p.experiences}]
            for channel in ("voice", "sms"):
                assert any(channel in p.channels for p in sharing), (experience, channel)
        everyone = frozenset(peer.id for peer in peers)
        for at in _instants():
            assert schedules.is_open(line, at), at
            assert schedules.peers_on_shift(session, line, at) == everyone, at
