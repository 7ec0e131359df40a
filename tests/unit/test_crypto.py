"""Keyed hashes and field encryption derived from WARMLINE_DATA_KEY."""

from __future__ import annotations

import hashlib
import logging

import pytest

from warmline.crypto import DataKeys, DecryptionError
from warmline.logs import NumberMaskingFilter

NUMBER = "+12125550101"


def test_keyed_hash_is_stable_per_key_and_not_a_plain_hash() -> None:
    keys = DataKeys.from_secret("a" * 32)
    assert keys.keyed_hash(NUMBER) == DataKeys.from_secret("a" * 32).keyed_hash(NUMBER)
    assert keys.keyed_hash(NUMBER) != DataKeys.from_secret("b" * 32).keyed_hash(NUMBER)
    assert keys.keyed_hash(NUMBER) != hashlib.sha256(NUMBER.encode()).hexdigest()


def test_encryption_round_trips_and_hides_the_number() -> None:
    keys = DataKeys.from_secret("a" * 32)
    token = keys.encrypt(NUMBER)
    assert NUMBER not in token and "2125550101" not in token
    assert keys.encrypt(NUMBER) != token  # a fresh nonce each time
    assert keys.decrypt(token) == NUMBER


def test_another_key_or_a_tampered_token_cannot_decrypt() -> None:
    token = DataKeys.from_secret("a" * 32).encrypt(NUMBER)
    with pytest.raises(DecryptionError):
        DataKeys.from_secret("b" * 32).decrypt(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        DataKeys.from_secret("a" * 32).decrypt(tampered)


@pytest.mark.parametrize("text", ["+12125550101", "(212) 555-0101", "212.555.0101", "+44 20 7946 0958"])
def test_the_log_filter_masks_phone_numbers_in_any_format(text: str) -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "caller %s waiting", (text,), None)
    NumberMaskingFilter().filter(record)
    assert record.getMessage() == "caller [number] waiting"


def test_the_log_filter_leaves_ordinary_numbers_alone() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "3 waiting, 120 s", None, None)
    NumberMaskingFilter().filter(record)
    assert record.getMessage() == "3 waiting, 120 s"
