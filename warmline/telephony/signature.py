"""Checks X-Twilio-Signature against the public URL, accepting every configured token (rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class MultiValued(Protocol):
    """A form whose keys may repeat (Werkzeug's MultiDict): every value of a key, in order."""

    def getlist(self, key: str) -> list[str]: ...

    def __iter__(self) -> Iterator[str]: ...


def public_request_url(public_base_url: str, full_path: str) -> str:
    """The URL Twilio signed: our configured public base plus the path and query it requested.

    Proxies rewrite scheme and host, so the request's own URL cannot be trusted for this.
    """
    path = full_path[:-1] if full_path.endswith("?") else full_path
    return public_base_url.rstrip("/") + path


def is_valid_signature(
    url: str,
    params: Mapping[str, str | Sequence[str]] | MultiValued,
    signature: str | None,
    tokens: Iterable[str],
) -> bool:
    """True when any of the tokens produced `signature` for this URL and form.

    Every webhook asks this, so the usual case costs one HMAC per token: the URL exactly as
    configured, which is what Twilio signs. Only when that fails does twilio-python's validator
    try the URL with and without its port (two HMACs more each), as Twilio's own libraries do.
    """
    if not signature:
        return False
    form = _SignedForm({key: _values(params, key) for key in params})
    tokens = tuple(tokens)
    # Compared as bytes: a header may carry any character, and compare_digest takes str only
    # when it is ASCII.
    sent = signature.encode("utf-8", "surrogatepass")
    if any(hmac.compare_digest(_signature(token, url, form).encode("ascii"), sent)
           for token in tokens):
        return True
    return any(RequestValidator(token).validate(url, form, signature) for token in tokens)


def _values(params: Mapping[str, str | Sequence[str]] | MultiValued, key: str) -> list[str]:
    # A MultiDict is a Mapping too, whose [key] is only the first value: ask it for them all.
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        values: list[str] = getlist(key)
        return values
    value = params[key]  # type: ignore[index]
    return [value] if isinstance(value, str) else list(value)


def _signature(token: str, url: str, form: Mapping[str, list[str]]) -> str:
    """Twilio's algorithm: the URL, then each name and value in sorted order (a value repeated
    under one name counts once), HMAC-SHA1 with the token, in base64."""
    signed = url + "".join(name + value for name in sorted(form)
                           for value in sorted(set(form[name])))
    digest = hmac.new(token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


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
