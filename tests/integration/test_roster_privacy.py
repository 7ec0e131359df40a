"""No peer phone number is readable in the database without the data key (raw rows, plain SQL)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import text

from tests.support.roster import EXAMPLE, dump_tables, import_text
from warmline.crypto import DataKeys, DecryptionError
from warmline.runtime import Runtime

PHONES = {
    "sam@example.org": "+12125550101",
    "ana@example.org": "+12125550102",
    "lee@example.org": "+12125550103",
}


def _forms(e164: str) -> list[str]:
    """The ways a number could be written in clear: E.164, national, local, hashed plainly."""
    digits = e164.lstrip("+")
    return [e164, digits, digits[1:], digits[-7:], hashlib.sha256(e164.encode()).hexdigest()]


def test_peer_phones_are_not_in_any_row_in_clear(runtime: Runtime) -> None:
    import_text(runtime, EXAMPLE)
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT email, phone_encrypted, phone_hash FROM peers")).all()
        raw_peers = [" ".join(map(str, row)) for row in conn.execute(text("SELECT * FROM peers"))]
    assert len(rows) == len(PHONES)
    everything = repr(dump_tables(runtime.engine))  # every table, the audit trail included
    for phone in PHONES.values():
        for form in _forms(phone):
            assert form not in everything
            assert all(form not in row for row in raw_peers)
    for peer in raw_peers:
        assert not re.search(r"555\D?01\d\d", peer)

    other = DataKeys.from_secret("another-data-key-" + "z" * 32)
    for email, encrypted, phone_hash in rows:
        assert runtime.keys.decrypt(encrypted) == PHONES[email]
        assert phone_hash == runtime.keys.keyed_hash(PHONES[email])
        assert phone_hash != other.keyed_hash(PHONES[email])
        with pytest.raises(DecryptionError):
            other.decrypt(encrypted)
