"""SQLAlchemy tables only: every table Warmline keeps in SQL."""

from warmline.models.audit import AuditEntry
from warmline.models.base import Base
from warmline.models.contact import CallbackAttempt, CallbackRequest, Contact, ContactEvent
from warmline.models.enums import CallbackStatus, Channel, EventKind, Outcome, Role
from warmline.models.line import Experience, Line
from warmline.models.people import Peer, PeerActivity, PeerActivityDay, User, peer_experiences
from warmline.models.report import AggregateDay, DailyAggregate, SurveyTally
from warmline.models.safety import Block, OptOut, SeenMessage
from warmline.models.shift import OpenShift, ShadowSession, Shift

__all__ = [
    "AggregateDay", "AuditEntry", "Base", "Block", "CallbackAttempt", "CallbackRequest",
    "CallbackStatus", "Channel", "Contact", "ContactEvent", "DailyAggregate", "EventKind",
    "Experience", "Line", "OpenShift", "OptOut", "Outcome", "Peer", "PeerActivity",
    "PeerActivityDay", "Role", "SeenMessage", "ShadowSession", "Shift", "SurveyTally", "User",
    "peer_experiences",
]
