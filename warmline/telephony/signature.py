"""Checks X-Twilio-Signature against the public URL, accepting every configured token (rotation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_request_url(public_base_url: str, full_path: str) -> str:
    """The URL Twilio signed: our configured public base plus the path and query it requested.

    Proxies rewrite scheme and host, so the request's own URL cannot be trusted for this.
    """
    path = full_path[:-1] if full_path.endswith("?") else full_path
    return public_base_url.rstrip("/") + path


def is_valid_signature(
    url: str,
    params: Mapping[str, str | Sequence[str]],
    signature: str | None,
    tokens: Iterable[str],
) -> bool:
    """True when any of the tokens produced `signature` for this URL and form."""
    if not signature:
        return False
    form = _SignedForm(
        {key: [value] if isinstance(value, str) else list(value) for key, value in params.items()}
    )
    return any(RequestValidator(token).validate(url, form, signature) for token in tokens)


class _SignedForm(dict[str, list[str]]):
    """Every value of every key, as Twilio signs them.

    RequestValidator reads a value through `getlist` when the form has one; from a plain dict it
    takes the value whole, and a list there (`From=a&From=b`) made it raise before any check.
    """

    def getlist(self, key: str) -> list[str]:
        return self[key]


def compute_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """What Twilio would send: used by our own tests' clients and the stand-in."""
    signature: str = RequestValidator(token).compute_signature(url, dict(params))
    return signature
