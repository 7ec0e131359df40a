"""Twilio's messaging webhook parameters, parsed once into a typed object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from warmline.domain.numbers import parse_whole_number


@dataclass(frozen=True)
class TextForm:
    message_sid: str
    from_number: str  # the texter; never logged, never stored in clear
    to_number: str
    body: str  # content: lives only encrypted in Redis
    num_media: int

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> TextForm:
        media = form.get("NumMedia", "0")
        return cls(
            message_sid=form.get("MessageSid", "") or form.get("SmsSid", ""),
            from_number=form.get("From", ""),
            to_number=form.get("To", ""),
            body=form.get("Body", ""),
            num_media=parse_whole_number(media, maximum=99) or 0,
        )


@dataclass(frozen=True)
class StatusForm:
    status: str
    error_code: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> StatusForm:
        return cls(status=form.get("MessageStatus", "") or form.get("SmsStatus", ""),
                   error_code=form.get("ErrorCode", ""))
