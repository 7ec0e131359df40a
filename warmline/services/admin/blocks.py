"""Blocks as admins see them: list (reason, set by whom, expiry, never a number or pseudonym),
lift, extend, and block the caller of a recent contact from the live board.

A block is for abuse only and always has an expiry (DESIGN.md); lifting one ends it now (the row
stays, for the record), extending moves its expiry. Every change is in the audit trail, which
names the block and the contact, never the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import Block, Contact, Line, User
from warmline.roster.fields import FieldError, refuse_control_characters
from warmline.services.admin.audit import Actor, record_change
from warmline.wording import N_

MAX_BLOCK_DAYS = 90
RECENT_CONTACTS = timedelta(hours=24)
RECENT_CONTACTS_SHOWN = 30
REASON_MAX = 200


@dataclass(frozen=True)
class BlockRow:
    id: int
    line_name: str  # "Every line" when the block has no line
    reason: str
    set_by: str
    created_at: datetime
    expires_at: datetime
    active: bool


@dataclass(frozen=True)
class RecentContact:
    """A contact the board lists so an admin can block its caller: no identity, only facts."""

    contact_id: str
    line_name: str
    channel: str
    arrived_at: datetime
    outcome: str


def list_blocks(session: Session, now: datetime, *, include_ended: bool = False) -> list[BlockRow]:
    """Active blocks by expiry (soonest first); with `include_ended`, lifted or expired too."""
    lines = {row.id: row.name for row in session.execute(select(Line.id, Line.name))}
    users = {row.id: row.email for row in session.execute(select(User.id, User.email))}
    query = select(Block).order_by(Block.expires_at)
    if not include_ended:
        query = query.where(Block.expires_at > now)
    return [
        BlockRow(b.id, lines.get(b.line_id, "?") if b.line_id else "Every line", b.reason,
                 users.get(b.created_by_user_id, "a peer or the system")
                 if b.created_by_user_id else "the system",
                 b.created_at, b.expires_at, b.expires_at > now)
        for b in session.scalars(query)
    ]


def lift_block(session: Session, actor: Actor, block_id: int, now: datetime) -> bool:
    """End the block now; False when there is no such active block."""
    block = session.get(Block, block_id)
    if block is None or block.expires_at <= now:
        return False
    block.expires_at = now
    record_change(session, actor, "block_lifted", f"block:{block_id}", {"line": block.line_id}, now)
    return True


def extend_block(session: Session, actor: Actor, block_id: int, days: int, now: datetime) -> str | None:
    """Push the expiry out by `days` from now or from the current expiry, whichever is later.
    Returns why not, or None when done."""
    if not 1 <= days <= MAX_BLOCK_DAYS:
        return N_("Choose between 1 and %(days)s days.", days=MAX_BLOCK_DAYS)
    block = session.get(Block, block_id)
    if block is None:
        return N_("That block cannot be found.")
    block.expires_at = max(block.expires_at, now) + timedelta(days=days)
    record_change(session, actor, "block_extended", f"block:{block_id}",
                  {"days": days, "until": block.expires_at.isoformat()}, now)
    return None


def block_contact_caller(session: Session, actor: Actor, contact_id: str, *, days: int,
                         reason: str, now: datetime) -> str | None:
    """Block the caller of a recent contact on its line. Returns why not, or None when done."""
    reason = " ".join(reason.split())[:REASON_MAX]
    if not reason:
        return N_("Say why (abuse only): the reason is kept with the block.")
    try:
        refuse_control_characters(reason)
    except FieldError as exc:
        return N_("The reason %(problem)s.", problem=exc.args[0] if exc.args else str(exc))
    if not 1 <= days <= MAX_BLOCK_DAYS:
        return N_("Choose between 1 and %(days)s days.", days=MAX_BLOCK_DAYS)
    contact = session.get(Contact, contact_id)
    if contact is None or contact.arrived_at < now - RECENT_CONTACTS:
        return N_("That contact is no longer recent enough to block from here.")
    block = Block(caller_hash=contact.caller_hash, line_id=contact.line_id, reason=reason,
                  created_by_user_id=actor.user_id, created_at=now,
                  expires_at=now + timedelta(days=days))
    session.add(block)
    session.flush()
    record_change(session, actor, "block_created", f"block:{block.id}",
                  {"contact": contact_id, "days": days, "line": contact.line_id}, now)
    return None


def channel_label(channel: str) -> str:
    return {"voice": N_("Call"), "chat": N_("Chat")}.get(channel, N_("Text"))


# How each outcome reads on the admin's pages (the words of DESIGN's outcome table).
OUTCOME_LABELS: dict[str, str] = {
    "connected": N_("connected"), "callback_connected": N_("callback connected"),
    "callback_failed": N_("callback failed"), "transferred_crisis": N_("transferred to the crisis line"),
    "transferred_backup": N_("transferred to the backup line"), "closed_hours": N_("closed hours"),
    "over_limit": N_("over the limit"), "blocked": N_("caller blocked"), "abandoned": N_("abandoned"),
    "opted_out": N_("opted out"), "unknown_line": N_("unknown line"),
}


def list_recent_contacts(session: Session, now: datetime) -> list[RecentContact]:
    """The last day's contacts, newest first. Whether a caller is blocked is not shown: rows
    marked alike would tell which contacts came from one caller."""
    lines = {row.id: row.name for row in session.execute(select(Line.id, Line.name))}
    contacts = session.scalars(
        select(Contact).where(Contact.arrived_at >= now - RECENT_CONTACTS,
                              Contact.is_callback.is_(False))
        .order_by(Contact.arrived_at.desc()).limit(RECENT_CONTACTS_SHOWN)).all()
    return [
        RecentContact(c.id, lines.get(c.line_id, "?") if c.line_id else "?",
                      channel_label(c.channel), c.arrived_at,
                      OUTCOME_LABELS.get(c.outcome or "", N_("in progress")))
        for c in contacts
    ]
