"""`python -m warmline user password EMAIL`: argon2 hashes, read from stdin, through a subprocess."""

from __future__ import annotations

from sqlalchemy import delete, select

from config import Settings
from tests.support.roster import EXAMPLE, import_text, warmline
from warmline.models import User
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password, verify_password

PASSWORD = "correct horse battery"


def _user(runtime: Runtime, email: str) -> User | None:
    with runtime.sessions() as session:
        return session.scalars(select(User).where(User.email == email)).first()


def test_hash_and_verify() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not-a-hash", PASSWORD)


def test_sets_a_password_from_stdin(runtime: Runtime, settings: Settings) -> None:
    import_text(runtime, EXAMPLE)
    result = warmline(settings, "user", "password", "Sam@Example.org", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    sam = _user(runtime, "sam@example.org")
    assert sam is not None and sam.password_hash is not None
    assert verify_password(sam.password_hash, PASSWORD)
    assert sam.session_version == 2  # sessions made with the old password end


def test_makes_the_sign_in_of_a_peer_without_one(runtime: Runtime, settings: Settings) -> None:
    import_text(runtime, EXAMPLE)
    with runtime.sessions.begin() as session:
        session.execute(delete(User).where(User.email == "lee@example.org"))
    result = warmline(settings, "user", "password", "lee@example.org", stdin=PASSWORD)
    assert result.returncode == 0, result.stderr
    lee = _user(runtime, "lee@example.org")
    assert lee is not None and lee.password_hash and lee.peer is not None
    assert (lee.role, lee.peer.email) == ("admin", "lee@example.org")


def test_refuses_a_short_password_and_an_unknown_email(runtime: Runtime, settings: Settings) -> None:
    import_text(runtime, EXAMPLE)
    short = warmline(settings, "user", "password", "sam@example.org", stdin="short\n")
    assert short.returncode == 1
    assert "at least 10 characters" in short.stderr
    sam = _user(runtime, "sam@example.org")
    assert sam is not None and sam.password_hash is None

    unknown = warmline(settings, "user", "password", "nobody@example.org", stdin=PASSWORD)
    assert unknown.returncode == 1
    assert "no user or peer has this email" in unknown.stderr
    assert _user(runtime, "nobody@example.org") is None
