"""Keyed hashes and encryption derived from WARMLINE_DATA_KEY.

A plain hash of a phone number is reversible by enumerating every number, so identity is an
HMAC under a secret key; reversible copies exist only as authenticated ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_TOKEN_VERSION = b"\x01"


class DecryptionError(Exception):
    """Raised when a ciphertext was not made with this data key or was altered."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"warmline", info=purpose).derive(
        secret.encode()
    )


@dataclass(frozen=True)
class DataKeys:
    """The two keys the app derives from WARMLINE_DATA_KEY: one to hash, one to encrypt."""

    hmac_key: bytes = field(repr=False)
    encryption_key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, data_key: str) -> DataKeys:
        return cls(
            hmac_key=_derive(data_key, b"identity-hmac-v1"),
            encryption_key=_derive(data_key, b"field-encryption-v1"),
        )

    def keyed_hash(self, value: str) -> str:
        """A stable pseudonym for an E.164 number (or any identifier): HMAC-SHA256, hex."""
        return hmac.new(self.hmac_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        """Authenticated encryption (AES-256-GCM) with a fresh nonce; returns URL-safe text."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.encryption_key).encrypt(nonce, plaintext.encode(), _TOKEN_VERSION)
        return base64.urlsafe_b64encode(_TOKEN_VERSION + nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(token.encode())
            version, nonce, sealed = raw[:1], raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
            if version != _TOKEN_VERSION:
                raise DecryptionError("unknown token version")
            return AESGCM(self.encryption_key).decrypt(nonce, sealed, version).decode()
        except DecryptionError:
            raise
        except Exception as exc:
            raise DecryptionError("cannot decrypt with this data key") from exc
