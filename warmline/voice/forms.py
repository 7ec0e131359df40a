"""Twilio's voice webhook parameters, parsed once into a typed object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from warmline.domain.numbers import parse_whole_number


def _int(value: str | None) -> int | None:
    return parse_whole_number(value)


@dataclass(frozen=True)
class CallForm:
    call_sid: str
    from_number: str  # the caller; never logged, never stored in clear
    to_number: str
    digits: str
    call_status: str
    queue_result: str
    queue_time: int | None
    sequence_number: int | None
    answered_by: str
    dial_call_status: str
    dial_call_duration: int | None
    call_duration: int | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> CallForm:
        return cls(
            call_sid=form.get("CallSid", ""),
            from_number=form.get("From", "") or form.get("Caller", ""),
            to_number=form.get("To", "") or form.get("Called", ""),
            digits=form.get("Digits", "").strip(),
            call_status=form.get("CallStatus", ""),
            queue_result=form.get("QueueResult", ""),
            queue_time=_int(form.get("QueueTime")),
            sequence_number=_int(form.get("SequenceNumber")),
            answered_by=form.get("AnsweredBy", ""),
            dial_call_status=form.get("DialCallStatus", ""),
            dial_call_duration=_int(form.get("DialCallDuration")),
            call_duration=_int(form.get("CallDuration")),
        )

    @property
    def answered_by_machine(self) -> bool:
        return self.answered_by.startswith("machine") or self.answered_by == "fax"
