"""SQLAlchemy tables only: every table Warmline keeps in SQL."""

from warmline.models.audit import AuditEntry
from warmline.models.base import Base
from warmline.models.contact import CallbackAttempt, CallbackRequest, Contact, ContactEvent
from warmline.models.enums import CallbackStatus, Channel, EventKind, Outcome, Role
from warmline.models.line import Experience, Line
from warmline.models.people import Peer, User, peer_experiences
from warmline.models.report import AggregateDay, DailyAggregate
from warmline.models.safety import Block, OptOut, SeenMessage
from warmline.models.shift import Shift

__all__ = [
    "AggregateDay", "AuditEntry", "Base", "Block", "CallbackAttempt", "CallbackRequest",
    "CallbackStatus", "Channel", "Contact", "ContactEvent", "DailyAggregate", "EventKind",
    "Experience", "Line", "OptOut", "Outcome", "Peer", "Role", "SeenMessage", "Shift", "User",
    "peer_experiences",
]
