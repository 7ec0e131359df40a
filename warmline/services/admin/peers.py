"""Peers from the admin pages: invite, edit, deactivate, and new set-password links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import Experience, Line, Peer, Shift, User
from warmline.roster.importer import load_existing
from warmline.roster.schema import CHANNELS, MAX_TEXTS, ROLES, InvalidRosterError, RosterPeer
from warmline.roster.validate import validate_roster
from warmline.runtime import Runtime
from warmline.services.accounts.invites import INVITE_LIFETIME, issue_invite
from warmline.services.admin.audit import Actor, record_change
from warmline.services.admin.forms import FormErrors, FormValues, place_errors, whole_number, words
from warmline.wording import N_

FIELDS = ("email", "name", "phone", "experiences", "languages", "channels", "max_texts", "role")


@dataclass(frozen=True)
class PeerSummary:
    """A row of the peers page."""

    id: int
    name: str
    email: str
    role: str
    active: bool
    sign_in: str  # "password set", "invitation pending until ...", ...
    lines: list[str]
    experiences: list[str]


@dataclass(frozen=True)
class PeerSave:
    peer_id: int | None
    errors: FormErrors
    invite_token: str | None = None


def _sign_in_state(user: User | None, now: datetime) -> str:
    if user is None:
        return N_("no sign-in")
    if not user.active:
        return N_("deactivated")
    if user.invite_token_hash and user.invite_expires_at:
        if user.invite_expires_at > now:
            until = user.invite_expires_at.strftime("%Y-%m-%d %H:%M")
            return N_("link pending until %(when)s UTC", when=until)
        if not user.password_hash:
            return N_("invitation expired")
    return N_("password set") if user.password_hash else N_("no password yet")


def list_peers(runtime: Runtime, now: datetime) -> list[PeerSummary]:
    with runtime.sessions() as session:
        users = {u.peer_id: u for u in session.scalars(select(User)) if u.peer_id is not None}
        lines_by_peer: dict[int, set[str]] = {}
        for peer_id, name in session.execute(
                select(Shift.peer_id, Line.name).join(Line, Shift.line_id == Line.id).distinct()):
            lines_by_peer.setdefault(peer_id, set()).add(name)
        return [
            PeerSummary(
                id=peer.id, name=peer.name, email=peer.email, role=peer.role, active=peer.active,
                sign_in=_sign_in_state(users.get(peer.id), now),
                lines=sorted(lines_by_peer.get(peer.id, ())),
                experiences=sorted(e.label for e in peer.experiences),
            )
            for peer in session.scalars(select(Peer).order_by(Peer.active.desc(), Peer.name))
        ]


def peer_form(runtime: Runtime, peer_id: int | None) -> FormValues | None:
    """The form's values for an existing peer (phone decrypted: the admin edits it), or defaults."""
    form = FormValues()
    if peer_id is None:
        form.set("languages", "en")
        form.set("channels", *CHANNELS)
        form.set("max_texts", str(MAX_TEXTS.default))
        form.set("role", "peer")
        return form
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            return None
        form.set("email", peer.email)
        form.set("name", peer.name)
        form.set("phone", runtime.keys.decrypt(peer.phone_encrypted))
        form.set("experiences", *(e.key for e in peer.experiences))
        form.set("languages", " ".join(peer.languages))
        form.set("channels", *peer.channels)
        form.set("max_texts", str(peer.max_texts))
        form.set("role", peer.role)
    return form


def experience_choices(session: Session) -> list[tuple[str, str, bool]]:
    return [(e.key, e.label, e.active)
            for e in session.scalars(select(Experience).order_by(Experience.digit, Experience.key))]


def _entry(form: FormValues, email: str) -> dict[str, Any]:
    return {
        "email": email,
        "name": form.get("name"),
        "phone": form.get("phone").strip(),
        "experiences": [key for key in form.getlist("experiences") if key],
        "languages": words(form.get("languages")),
        "channels": [c for c in form.getlist("channels") if c],
        "max_texts": whole_number(form.get("max_texts")),
        "role": form.get("role") or "peer",
    }


def _check(session: Session, runtime: Runtime, entry: dict[str, Any]) -> tuple[RosterPeer | None, FormErrors]:
    errors = FormErrors()
    if not entry["channels"]:
        entry.pop("channels")
        errors.add("channels", N_("choose at least one: voice or texts"))
    try:
        roster = validate_roster({"version": 1, "peers": [entry]}, load_existing(session),
                                 phone_hash=runtime.keys.keyed_hash)
    except InvalidRosterError as exc:
        place_errors(errors, exc.errors, "peers[0]", FIELDS)
        return None, errors
    if errors:
        return None, errors
    return roster.peers[0], errors


def _values(runtime: Runtime, peer: RosterPeer) -> dict[str, Any]:
    return {"name": peer.name, "languages": list(peer.languages), "channels": list(peer.channels),
            "max_texts": peer.max_texts, "role": peer.role,
            "phone_hash": runtime.keys.keyed_hash(peer.phone)}


def invite_peer(runtime: Runtime, actor: Actor, form: FormValues, now: datetime) -> PeerSave:
    """A new peer with a sign-in that has no password, and a link to set one (returned once)."""
    email = form.get("email").strip().lower()
    with runtime.sessions.begin() as session:
        checked, errors = _check(session, runtime, _entry(form, email))
        taken = session.scalars(select(User.email).where(User.email == email)).first() or \
            session.scalars(select(Peer.email).where(Peer.email == email)).first()
        if taken:
            errors.add("email", N_("%(email)s already has a sign-in", email=email))
        if checked is None or errors:
            return PeerSave(None, errors)
        wanted = list(session.scalars(select(Experience).where(Experience.key.in_(checked.experiences))))
        peer = Peer(email=checked.email, phone_encrypted=runtime.keys.encrypt(checked.phone),
                    experiences=wanted, active=True, **_values(runtime, checked))
        session.add(peer)
        session.flush()
        user = User(email=checked.email, role=checked.role, peer_id=peer.id, active=True,
                    session_version=1, failed_sign_ins=0)
        session.add(user)
        token = issue_invite(session, runtime.keys, user, now)
        # Names of what was set, never the phone itself: the audit trail is read widely.
        record_change(session, actor, "peer.invite", f"peer {checked.email}",
                      {"role": checked.role, "experiences": list(checked.experiences)}, now)
        return PeerSave(peer.id, errors, token)


def update_peer(runtime: Runtime, actor: Actor, peer_id: int, form: FormValues, now: datetime) -> PeerSave:
    with runtime.sessions.begin() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            errors = FormErrors()
            errors.add("name", N_("This peer no longer exists."))
            return PeerSave(None, errors)
        # The email is the peer's key and sign-in: it is shown, not edited.
        checked, errors = _check(session, runtime, _entry(form, peer.email))
        if checked is None:
            return PeerSave(None, errors)
        values = _values(runtime, checked)
        changed = sorted(name if name != "phone_hash" else "phone"
                         for name, value in values.items() if getattr(peer, name) != value)
        if "phone" in changed:
            peer.phone_encrypted = runtime.keys.encrypt(checked.phone)
        for name, value in values.items():
            setattr(peer, name, value)
        if {e.key for e in peer.experiences} != set(checked.experiences):
            peer.experiences = list(session.scalars(
                select(Experience).where(Experience.key.in_(checked.experiences))))
            changed.append("experiences")
        user = session.scalars(select(User).where(User.peer_id == peer.id)).first()
        if user is not None and user.role != checked.role:
            user.role = checked.role
        if changed:
            record_change(session, actor, "peer.update", f"peer {peer.email}", {"changed": changed}, now)
        return PeerSave(peer.id, errors)


def set_peer_active(runtime: Runtime, actor: Actor, peer_id: int, active: bool, now: datetime) -> bool:
    """Deactivate (never delete: contacts and reports refer to the peer) or reactivate."""
    with runtime.sessions.begin() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            return False
        peer.active = active
        for user in session.scalars(select(User).where(User.peer_id == peer.id)):
            user.active = active
            if not active:
                user.session_version = (user.session_version or 0) + 1  # signed out everywhere
                user.invite_token_hash = None
                user.invite_expires_at = None
        record_change(session, actor, "peer.activate" if active else "peer.deactivate",
                      f"peer {peer.email}", {}, now)
        return True


def make_password_link(runtime: Runtime, actor: Actor, peer_id: int, now: datetime) -> str | None:
    """A new one-time set-password link for the peer (a reset); the current password still
    works until the link is used, so a peer is never locked out by a link they did not ask for."""
    with runtime.sessions.begin() as session:
        peer = session.get(Peer, peer_id)
        if peer is None or not peer.active:
            return None
        user = session.scalars(select(User).where(User.peer_id == peer.id)).first()
        if user is None:
            user = User(email=peer.email, role=peer.role, peer_id=peer.id, active=True,
                        session_version=1, failed_sign_ins=0)
            session.add(user)
        token = issue_invite(session, runtime.keys, user, now)
        record_change(session, actor, "peer.password_link", f"peer {peer.email}", {}, now)
        return token


ROLE_CHOICES = ROLES
ROLE_LABELS = {"peer": N_("peer"), "admin": N_("admin")}
CHANNEL_CHOICES = (("voice", N_("Calls")), ("sms", N_("Texts")))
INVITE_DAYS = INVITE_LIFETIME.days
