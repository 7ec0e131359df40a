"""Open shifts and swaps: a peer offers up one occurrence of their shift, peers who share the line
are told (those who share an experience the gap would leave uncovered first), the first to take
it gets it, and the roster changes the way the roster file says it: a skip plus a one-off.

Taking is one conditional UPDATE (`state = 'open'`), so of any number of racing peers exactly
one wins. A line may require an admin's approval (`swap_approval`): then the taker holds it as
`pending_approval` until an admin approves (the roster changes) or declines (open again).
Every step is in the audit trail. Texts go through one job per (peer, kind, occurrence), so
nobody is told twice; a text that is no longer true when its job runs is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warmline.domain.schedule import list_shift_occurrences
from warmline.models import Line, OpenShift, Peer, Shift, User
from warmline.runtime import Runtime
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.coverage import build_coverage_report
from warmline.services.admin.notices import NoticeKind, post_notice
from warmline.services.peers.dashboard import Refusal, list_peer_lines
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import shift_rule
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.wording import N_, LocalSpan

# Peers who share an experience the gap would leave uncovered hear first; the rest this much later.
FIRST_DIBS = timedelta(minutes=30)
OFFER_AHEAD = timedelta(days=60)


@dataclass(frozen=True)
class OpenShiftView:
    id: int
    line_id: int
    line_name: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    offered_by: str
    state: str
    taken_by: str | None
    mine: bool  # offered by the peer looking

    @property
    def local_label(self) -> LocalSpan:
        zone = ZoneInfo(self.timezone)
        return LocalSpan(self.starts_at.astimezone(zone), self.ends_at.astimezone(zone))


@dataclass(frozen=True)
class GapView:
    line_id: int
    line_name: str
    local_start: datetime  # aware, in the line's zone
    local_end: datetime
    peers: int

    @property
    def label(self) -> LocalSpan:
        return LocalSpan(self.local_start, self.local_end)


def _actor(session: Session, peer_id: int) -> Actor:
    user = session.scalars(select(User).where(User.peer_id == peer_id)).first()
    peer = session.get(Peer, peer_id)
    return Actor(user.id if user else None, peer.email if peer else f"peer:{peer_id}")


def _changed(result: object) -> int:
    """Rows an UPDATE changed (the conditional UPDATE is how exactly one taker wins)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _occurrence(shift: Shift, day: date) -> tuple[datetime, datetime] | None:
    """The shift's occurrence starting on local `day`, as aware UTC start and end."""
    zone = ZoneInfo(shift.line.timezone)
    lo = datetime.combine(day, time.min, zone)
    for occ in list_shift_occurrences(shift_rule(shift), zone, lo, lo + timedelta(days=1)):
        if occ.start.astimezone(zone).date() == day:
            return occ.start, occ.end
    return None


def offer_shift(runtime: Runtime, peer_id: int, shift_id: int, day_text: str,
                now: datetime) -> Refusal | int:
    """"I can't make it": the occurrence becomes open. Its id, or why not."""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return Refusal(N_("Choose one of your shifts."), 400)
    with runtime.sessions.begin() as session:
        shift = session.get(Shift, shift_id)
        if shift is None or shift.peer_id != peer_id:
            return Refusal(N_("That is not one of your shifts."), 400)
        found = _occurrence(shift, day)
        if found is None or not now < found[0] < now + OFFER_AHEAD:
            return Refusal(N_("Only a shift still ahead of you can be offered."), 409)
        taken = session.scalars(select(OpenShift).where(
            OpenShift.shift_id == shift_id, OpenShift.occurrence_date == day_text)).first()
        if taken is not None and taken.state != "withdrawn":
            return Refusal(N_("You have offered that shift already."), 409)
        if taken is not None:
            session.delete(taken)
            session.flush()
        row = OpenShift(shift_id=shift_id, line_id=shift.line_id, occurrence_date=day_text,
                        starts_at=found[0], ends_at=found[1], offered_by_peer_id=peer_id,
                        offered_at=now, state="open")
        session.add(row)
        session.flush()
        record_change(session, _actor(session, peer_id), "open_shift_offered", f"open_shift:{row.id}",
               {"line": shift.line_id, "date": day_text, "shift": shift_id}, now)
        first, later = _who_to_tell(session, shift, found[0], found[1])
        open_id, starts = row.id, found[0]
    notifier = TextPeerNotifier(runtime)
    notifier.notify_open_shift(open_id, shift.line_id, first, starts, delay=None)
    notifier.notify_open_shift(open_id, shift.line_id, later, starts, delay=FIRST_DIBS)
    return open_id


def _who_to_tell(session: Session, shift: Shift, start: datetime,
                 end: datetime) -> tuple[list[int], list[int]]:
    """Peers of the line who are free then: (those sharing an experience nobody else on shift
    would cover, everyone else). The first group hears first."""
    line = shift.line
    zone = ZoneInfo(line.timezone)
    shifts = list(session.scalars(select(Shift).where(Shift.line_id == line.id)))
    working = {s.peer_id for s in shifts}
    peers = {p.id: p for p in session.scalars(select(Peer).where(
        Peer.id.in_(working), Peer.active.is_(True)))}
    offering = peers.get(shift.peer_id)
    on_shift_then = {pid for pid in _on_shift_between(shifts, zone, start, end)
                     if pid != shift.peer_id}
    covered = {e.key for pid in on_shift_then if pid in peers for e in peers[pid].experiences}
    uncovered = {e.key for e in offering.experiences} - covered if offering else set()
    candidates = [pid for pid in sorted(peers) if pid != shift.peer_id and pid not in on_shift_then]
    first = [pid for pid in candidates if uncovered & {e.key for e in peers[pid].experiences}]
    if not first:
        return candidates, []  # no experience at stake: everyone hears at once
    return first, [pid for pid in candidates if pid not in first]


def _on_shift_between(shifts: Sequence[Shift], zone: ZoneInfo, start: datetime,
                      end: datetime) -> set[int]:
    found: set[int] = set()
    for other in shifts:
        for occ in list_shift_occurrences(shift_rule(other), zone, start - timedelta(days=1), end):
            if occ.start < end and occ.end > start:
                found.add(other.peer_id)
    return found


def take_open_shift(runtime: Runtime, peer_id: int, open_id: int, now: datetime) -> Refusal | str:
    """The first peer to take it gets it. What to tell them, or why not."""
    with runtime.sessions.begin() as session:
        row = session.get(OpenShift, open_id)
        lines = {line.id for line in list_peer_lines(session, peer_id)}
        if row is None or row.line_id not in lines:
            return Refusal(N_("That open shift is not on a line you work."), 404)
        if row.offered_by_peer_id == peer_id:
            return Refusal(N_("That is your own shift: withdraw the offer instead."), 409)
        if row.starts_at <= now:
            return Refusal(N_("That shift has already started."), 409)
        line = session.get(Line, row.line_id)
        needs_approval = bool(line and line.swap_approval)
        won = _changed(session.execute(
            update(OpenShift)
            .where(OpenShift.id == open_id, OpenShift.state == "open")
            .values(state="pending_approval" if needs_approval else "taken",
                    taken_by_peer_id=peer_id, taken_at=now)
            .execution_options(synchronize_session=False)
        ))
        if won != 1:
            return Refusal(N_("Someone else took that shift first. Thank you for offering!"), 409)
        session.refresh(row)
        actor = _actor(session, peer_id)
        record_change(session, actor, "open_shift_taken", f"open_shift:{open_id}",
               {"line": row.line_id, "date": row.occurrence_date,
                "approval": "needed" if needs_approval else "not needed"}, now)
        if not needs_approval:
            _apply(session, row)
        line_id, line_name = row.line_id, line.name if line else "the line"
        offered_by, starts = row.offered_by_peer_id, row.starts_at
        taker = session.get(Peer, peer_id)
        taker_name = taker.first_name if taker else "A peer"
        label = _label(row, line.timezone if line else "UTC")
    if needs_approval:
        post_notice(runtime.redis, NoticeKind.OPEN_SHIFT,
                    N_("%(name)s asks to take an open shift on %(line)s, %(shift)s.",
                       name=taker_name, line=line_name, shift=label),
                    now, line_id=line_id, ref=str(open_id))
        return N_("Thank you! An admin approves swaps on this line; you'll be told.")
    refresh_line_routing(runtime, line_id, now, force=True)
    TextPeerNotifier(runtime).notify_open_shift_taken(open_id, line_id, offered_by, starts)
    return N_("It's yours: %(line)s, %(shift)s. Thank you!", line=line_name, shift=label)


def _label(row: OpenShift, zone_name: str) -> LocalSpan:
    zone = ZoneInfo(zone_name)
    return LocalSpan(row.starts_at.astimezone(zone), row.ends_at.astimezone(zone))


def _apply(session: Session, row: OpenShift) -> None:
    """The roster file's way: the series skips the date and a one-off covers it."""
    shift = session.get(Shift, row.shift_id)
    if shift is None or row.taken_by_peer_id is None:
        return
    row.state = "taken"
    if shift.rrule is None:
        shift.peer_id = row.taken_by_peer_id  # a one-off simply changes hands
        row.cover_shift_id = shift.id
        return
    shift.skip_dates = sorted({*shift.skip_dates, row.occurrence_date})
    zone = ZoneInfo(shift.line.timezone)
    cover = Shift(peer_id=row.taken_by_peer_id, line_id=shift.line_id,
                  start_local=row.starts_at.astimezone(zone).replace(tzinfo=None),
                  end_local=shift.end_local, rrule=None, skip_dates=[],
                  note=f"covers an open shift (swap {row.id})")
    session.add(cover)
    session.flush()
    row.cover_shift_id = cover.id


def decide_open_shift(runtime: Runtime, open_id: int, *, approve: bool, user_id: int | None,
                      actor: str, now: datetime) -> str:
    """An admin's answer on a line that approves swaps. What to tell the admin."""
    with runtime.sessions.begin() as session:
        row = session.get(OpenShift, open_id)
        if row is None or row.state != "pending_approval":
            return N_("That swap was already decided.")
        taker = row.taken_by_peer_id
        if approve:
            _apply(session, row)
        else:
            row.state, row.taken_by_peer_id, row.taken_at = "open", None, None
        record_change(session, Actor(user_id, actor), "open_shift_approved" if approve
               else "open_shift_declined", f"open_shift:{open_id}",
               {"line": row.line_id, "date": row.occurrence_date, "taker": taker}, now)
        line_id, offered_by, starts = row.line_id, row.offered_by_peer_id, row.starts_at
    notifier = TextPeerNotifier(runtime)
    if approve:
        refresh_line_routing(runtime, line_id, now, force=True)
        notifier.notify_open_shift_taken(open_id, line_id, offered_by, starts)
        if taker is not None:
            notifier.notify_open_shift_answer(open_id, line_id, taker, starts, approved=True)
        return N_("Approved: the roster now shows the swap.")
    if taker is not None:
        notifier.notify_open_shift_answer(open_id, line_id, taker, starts, approved=False)
    return N_("Declined: the shift is open again.")


def withdraw_offer(runtime: Runtime, peer_id: int, open_id: int, now: datetime) -> Refusal | None:
    with runtime.sessions.begin() as session:
        won = _changed(session.execute(
            update(OpenShift).where(OpenShift.id == open_id, OpenShift.state == "open",
                                    OpenShift.offered_by_peer_id == peer_id)
            .values(state="withdrawn").execution_options(synchronize_session=False)))
        if won != 1:
            return Refusal(N_("That offer was already taken or withdrawn."), 409)
        record_change(session, _actor(session, peer_id), "open_shift_withdrawn", f"open_shift:{open_id}",
               {}, now)
    return None


def list_open_shifts(runtime: Runtime, peer_id: int, now: datetime) -> list[OpenShiftView]:
    """Open (and pending) shifts on the peer's lines, soonest first, theirs included."""
    with runtime.sessions() as session:
        lines = {line.id: line for line in list_peer_lines(session, peer_id)}
        rows = session.scalars(select(OpenShift).where(
            OpenShift.line_id.in_(lines), OpenShift.starts_at > now,
            OpenShift.state.in_(("open", "pending_approval"))).order_by(OpenShift.starts_at)).all()
        names = {p.id: p.first_name for p in session.scalars(select(Peer))}
        return [OpenShiftView(r.id, r.line_id, lines[r.line_id].name, lines[r.line_id].timezone,
                              r.starts_at, r.ends_at, names.get(r.offered_by_peer_id, "A peer"),
                              r.state, names.get(r.taken_by_peer_id) if r.taken_by_peer_id else None,
                              r.offered_by_peer_id == peer_id)
                for r in rows if _shown_to(session, r, peer_id, now)]


def _shown_to(session: Session, row: OpenShift, peer_id: int, now: datetime) -> bool:
    """During the first dibs, only those sharing the uncovered experience see an open shift
    (and whoever offered or took it); after it, every peer of the line does."""
    if row.state != "open" or row.offered_by_peer_id == peer_id or now >= row.offered_at + FIRST_DIBS:
        return True
    shift = session.get(Shift, row.shift_id)
    if shift is None:
        return True
    first, later = _who_to_tell(session, shift, row.starts_at, row.ends_at)
    return peer_id in first or not later


def list_offered_days(runtime: Runtime, peer_id: int) -> set[tuple[int, str]]:
    """(shift id, date) of the peer's occurrences already offered, to show them as such."""
    with runtime.sessions() as session:
        return {(r.shift_id, r.occurrence_date) for r in session.scalars(select(OpenShift).where(
            OpenShift.offered_by_peer_id == peer_id,
            OpenShift.state.in_(("open", "pending_approval"))))}


def list_open_gaps(runtime: Runtime, peer_id: int, now: datetime) -> list[GapView]:
    """The coverage report's gaps (nobody on shift) on the peer's lines, merged into spans."""
    with runtime.sessions() as session:
        line_ids = {line.id for line in list_peer_lines(session, peer_id)}
    report = build_coverage_report(runtime, now, min_peers=1)
    spans: list[GapView] = []
    for gap in report.gaps:
        if gap.line_id not in line_ids:
            continue
        if (spans and spans[-1].line_id == gap.line_id and spans[-1].local_end == gap.local_start
                and spans[-1].local_start.date() == gap.local_start.date()):  # a span a day
            last = spans[-1]
            spans[-1] = GapView(last.line_id, last.line_name, last.local_start, gap.local_end, 0)
        else:
            spans.append(GapView(gap.line_id, gap.line_name, gap.local_start, gap.local_end, 0))
    return spans


def take_gap(runtime: Runtime, peer_id: int, line_id: int, *, start_text: str, end_text: str,
             now: datetime) -> Refusal | str:
    """Cover a gap the coverage report shows, with a one-off shift of one's own."""
    with runtime.sessions.begin() as session:
        lines = {line.id: line for line in list_peer_lines(session, peer_id)}
        line = lines.get(line_id)
        if line is None:
            return Refusal(N_("You can cover gaps only on a line you work."), 400)
        try:
            start = datetime.fromisoformat(start_text).replace(tzinfo=None)
            end = datetime.fromisoformat(end_text).replace(tzinfo=None)
        except ValueError:
            return Refusal(N_("Choose one of the gaps shown."), 400)
        zone = ZoneInfo(line.timezone)
        if end.replace(tzinfo=zone) <= now or not start < end <= start + timedelta(days=1):
            return Refusal(N_("Choose a gap still ahead."), 409)
        shift = Shift(peer_id=peer_id, line_id=line_id, start_local=start, end_local=end.time(),
                      rrule=None, skip_dates=[], note="covers a gap")
        session.add(shift)
        session.flush()
        record_change(session, _actor(session, peer_id), "gap_taken", f"shift:{shift.id}",
               {"line": line_id, "start": start.isoformat(timespec="minutes"),
                "end": end.time().isoformat(timespec="minutes")}, now)
        span = LocalSpan(start, end)
    refresh_line_routing(runtime, line_id, now, force=True)
    return N_("Thank you! You cover %(line)s, %(shift)s.", line=line.name, shift=span)
