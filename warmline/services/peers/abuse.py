"""Ends a contact a peer reported for abuse: the call is hung up, the text conversation closed."""

from __future__ import annotations

import logging
from datetime import datetime

from warmline.models import Contact
from warmline.runtime import Runtime
from warmline.services.texts.conversation import close_conversation
from warmline.telephony.gateway import TelephonyError

log = logging.getLogger(__name__)


class EndReportedContact:
    """The dashboard's AbuseReportHook: the block is already recorded when this runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def end_reported_contact(self, contact_id: str, channel: str, now: datetime) -> None:
        if channel in ("sms", "chat"):
            close_conversation(self.runtime, contact_id, now, reason="abuse")
            return
        with self.runtime.sessions() as session:
            contact = session.get(Contact, contact_id)
            call_sid = contact.provider_sid if contact else None
        if call_sid is None:
            return
        try:
            # Ending the caller's leg ends the bridge; the status callbacks record the outcome.
            self.runtime.twilio.end_call(call_sid)
        except TelephonyError as exc:
            log.warning("could not end reported call of contact %s (%s)", contact_id, exc.code)
