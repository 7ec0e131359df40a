"""Signs requests the way Twilio does, with twilio-python's own RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """`X-Twilio-Signature` for a request to `url` (exactly as configured) with POST `params`."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """True when `signature` is what Twilio would send; used by the stand-in's own tests."""
    valid: bool = RequestValidator(auth_token).validate(url, dict(params), signature)
    return valid
