"""Sign-in is slowed, never locked; sign-out ends the session on the server; "need support"
cannot flood the admins."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.dashboard import PASSWORD, form_csrf, make_line, make_peer, sign_in
from warmline import keys
from warmline.app import create_app
from warmline.crypto import DataKeys
from warmline.runtime import Runtime
from warmline.services.accounts import sign_in as sign_ins
from warmline.services.peers import support as support_service
from warmline.web.dashboard import install_support_notifier
from warmline.web.limits import SIGN_IN_LIMIT_CONFIG, client_address, sign_in_failures_per_address


def _try(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1") -> tuple[int, str]:
    token = form_csrf(client)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})
    return response.status_code, response.get_data(as_text=True)


def _move_the_wait(runtime: Runtime, email: str, seconds_from_now: float) -> None:
    # Tests neither sleep nor race the clock: the account's not-before is put where the test needs
    # it (in the past: the wait is over; far ahead: a slow machine cannot outlast it).
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    runtime.redis.hset(keys.sign_in_account(digest, None), "not_before",
                       str(time.time() + seconds_from_now))


# --------------------------------------------------------------------------- 6. slowed, not locked


def test_the_delay_doubles_from_the_fourth_try_up_to_five_minutes() -> None:
    assert [sign_ins.delay_after(n) for n in range(1, 13)] == [
        0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_each_failure_sets_the_next_wait_and_a_success_forgets_them(runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    now = datetime.fromtimestamp(1_000_000, UTC)
    waits = []
    for _ in range(6):
        result = sign_ins.sign_in(runtime, "robin@example.org", "wrong password", now=now)
        assert result.user is None
        waits.append(result.retry_after)
        now += timedelta(seconds=result.retry_after)  # the next try comes exactly when it may
    assert waits == [0, 0, 2, 4, 8, 16]
    # A try inside the wait is refused without checking the password, and changes nothing.
    early = sign_ins.sign_in(runtime, "robin@example.org", PASSWORD, now=now - timedelta(seconds=5))
    assert early.refusal is sign_ins.SignInRefusal.SLOWED and early.retry_after == 5
    assert sign_ins.sign_in(runtime, "robin@example.org", PASSWORD, now=now).user is not None
    assert sign_ins.sign_in(runtime, "robin@example.org", "wrong password", now=now).retry_after == 0


def test_five_wrong_passwords_no_longer_lock_the_account(client: FlaskClient, runtime: Runtime) -> None:
    # The review: 5 failures locked any account whose email someone knew, for 15 minutes.
    make_peer(runtime, "robin@example.org")
    for _ in range(5):
        _try(client, "robin@example.org", "wrong password")
        _move_the_wait(runtime, "robin@example.org", -1)
    assert _try(client, "robin@example.org", PASSWORD)[0] == 302


def test_a_try_during_the_wait_is_told_plainly_how_long(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    for expected in (401, 401):
        assert _try(client, "robin@example.org", "wrong password")[0] == expected
    status, page = _try(client, "robin@example.org", "wrong password")
    assert status == 429 and "wait 2 seconds before the next try" in page
    _move_the_wait(runtime, "robin@example.org", 100)
    token = form_csrf(client)
    during = client.post("/sign-in", data={"email": "robin@example.org", "password": PASSWORD,
                                           "csrf_token": token})
    assert during.status_code == 429 and 1 <= int(during.headers["Retry-After"]) <= 100
    assert "wait 2 minutes before the next try" in during.get_data(as_text=True)
    # Unknown emails are slowed alike: the answer tells nobody which emails have accounts.
    for _ in range(2):
        _try(client, "nobody@example.org", "wrong password")
    assert "wait 2 seconds" in _try(client, "nobody@example.org", "wrong password")[1]


def test_a_stranger_guessing_does_not_slow_the_peers_own_browser(
    client: FlaskClient, runtime: Runtime,
) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")  # this browser now carries a device token
    client.post("/sign-out", data={"csrf_token": form_csrf(client, "/dashboard")})
    stranger = client.application.test_client()
    for _ in range(8):
        _try(stranger, "robin@example.org", "guess", address="203.0.113.9")
    _move_the_wait(runtime, "robin@example.org", 300)  # the stranger has earned the longest wait
    assert _try(stranger, "robin@example.org", PASSWORD, address="203.0.113.9")[0] == 429
    assert _try(client, "robin@example.org", PASSWORD)[0] == 302


def test_a_device_token_is_bound_to_its_email(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    make_peer(runtime, "sam@example.org", name="Sam Peer", phone="+15005550101")
    sign_in(client, "robin@example.org")
    client.post("/sign-out", data={"csrf_token": form_csrf(client, "/dashboard")})
    # Robin's browser guessing at Sam's account is a stranger to Sam's account.
    for _ in range(3):
        _try(client, "sam@example.org", "guess")
    _move_the_wait(runtime, "sam@example.org", 300)
    assert _try(client, "sam@example.org", PASSWORD)[0] == 429


def test_the_cap_per_address_is_thirty_failures_in_fifteen_minutes(client: FlaskClient) -> None:
    with client.application.test_request_context():
        assert sign_in_failures_per_address() == "30 per 15 minutes"


def _lower_the_address_cap(client: FlaskClient) -> None:
    # Thirty argon2 checks take half a minute on a loaded test machine; three show the same.
    client.application.config[SIGN_IN_LIMIT_CONFIG] = "3 per 15 minutes"


def test_one_address_is_capped_but_other_addresses_are_not(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    _lower_the_address_cap(client)
    # Wrong passwords from one address up to the cap, each for a different email (no account delay).
    for n in range(3):
        assert _try(client, f"guess{n}@example.org", "x", address="198.51.100.7")[0] == 401
    status, page = _try(client, "robin@example.org", PASSWORD, address="198.51.100.7")
    assert status == 429
    assert "Too many wrong passwords from this network" in page and "minutes" in page
    # Another client address (behind a proxy: the real one, via WARMLINE_PROXY_HOPS) signs in.
    assert _try(client, "robin@example.org", PASSWORD, address="198.51.100.8")[0] == 302


def test_successful_sign_ins_never_count_against_an_address(client: FlaskClient, runtime: Runtime) -> None:
    # A whole office behind one address signs in at shift change.
    make_peer(runtime, "robin@example.org")
    _lower_the_address_cap(client)
    for _ in range(5):
        browser = client.application.test_client()
        assert _try(browser, "robin@example.org", PASSWORD, address="192.0.2.1")[0] == 302


def test_the_address_never_appears_in_redis(client: FlaskClient, runtime: Runtime) -> None:
    _try(client, "nobody@example.org", "x", address="198.51.100.77")
    found = [key.decode() for key in runtime.redis.scan_iter(match=f"{keys.rate_limits_prefix()}*")]
    assert found and all("198.51.100.77" not in key for key in found)
    assert all("nobody" not in key.decode() for key in runtime.redis.scan_iter())
    with client.application.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.77"}):
        assert any(client_address() in key for key in found)


def test_an_addresss_limit_key_is_a_keyed_hash_not_a_plain_one(app: Flask, runtime: Runtime) -> None:
    # A plain hash of an IPv4 address is undone by hashing all four billion of them.
    address = "198.51.100.77"
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        key = client_address()
    assert address not in key and hashlib.sha256(address.encode()).hexdigest()[:32] not in key
    other_key = dataclasses.replace(runtime, keys=DataKeys.from_secret("another data key"))
    with create_app(runtime=other_key).test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_address() != key


def test_a_held_back_sign_in_logs_nothing_of_the_address(
        client: FlaskClient, runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _lower_the_address_cap(client)
    address = "198.51.100.78"
    for n in range(3):
        assert _try(client, f"guess{n}@example.org", "x", address=address)[0] == 401
    assert _try(client, "guess9@example.org", "x", address=address)[0] == 429
    # Flask-Limiter names the key it held back at INFO: not even a keyed hash of an address
    # belongs in the logs (the number mask hides only its longer runs of digits).
    assert address not in caplog.text and "addr-" not in caplog.text
    assert not [r for r in caplog.records if r.name == "flask-limiter" and r.levelno < logging.WARNING]


# --------------------------------------------------------------------------- 9. sign-out


def test_a_copied_cookie_stops_working_at_sign_out(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    cookie = client.get_cookie("warmline_session")
    assert cookie is not None
    thief = client.application.test_client()
    thief.set_cookie("warmline_session", cookie.value)
    assert thief.get("/api/me").status_code == 200
    client.post("/sign-out", data={"csrf_token": form_csrf(client, "/dashboard")})
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/dashboard").status_code == 302


def test_signing_out_on_one_device_keeps_the_others(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    phone = client.application.test_client()
    sign_in(client, "robin@example.org")
    sign_in(phone, "robin@example.org")
    client.post("/sign-out", data={"csrf_token": form_csrf(client, "/dashboard")})
    assert client.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 200


def test_a_sign_out_is_remembered_as_long_as_the_cookie_could_live(
    client: FlaskClient, runtime: Runtime,
) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    client.post("/sign-out", data={"csrf_token": form_csrf(client, "/dashboard")})
    records = list(runtime.redis.scan_iter(match=keys.ended_session("*")))
    assert len(records) == 1
    assert 13 * 3600 < runtime.redis.ttl(records[0]) <= sign_ins.SESSION_LIFETIME.total_seconds()


def test_losing_redis_signs_nobody_out(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    runtime.redis.flushdb()  # a Redis restart without persistence
    assert client.get("/api/me").status_code == 200


# --------------------------------------------------------------------------- 16. need support


class CountingNotifier:
    def __init__(self) -> None:
        self.texts = 0

    def notify_off_shift_admins(self, alert: support_service.SupportAlert, admin_peer_ids: object) -> None:
        self.texts += 1


def test_need_support_pressed_thirty_times_alerts_once(client: FlaskClient, runtime: Runtime) -> None:
    notifier = CountingNotifier()
    install_support_notifier(client.application, notifier)
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    make_peer(runtime, "ada@example.org", name="Ada Admin", role="admin", phone="+15005550102",
              line_id=line, on_shift=False)
    sign_in(client, "robin@example.org")
    token = form_csrf(client, "/dashboard")
    for _ in range(30):
        client.post("/dashboard/support", data={"csrf_token": token})
    api = client.post("/api/support", headers={"X-CSRFToken": token})
    assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
    assert notifier.texts == 1
    assert len(support_service.list_support_alerts(runtime.redis, datetime.now(UTC))) == 1
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Your admins were told a few minutes ago" in page and "You can ask again in" in page


def test_each_peer_has_their_own_support_limit(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    make_peer(runtime, "sam@example.org", name="Sam Peer", phone="+15005550101", line_id=line)
    sam = client.application.test_client()
    sign_in(client, "robin@example.org")
    sign_in(sam, "sam@example.org")
    for who in (client, sam):
        response = who.post("/api/support", headers={"X-CSRFToken": form_csrf(who, "/dashboard")})
        assert response.status_code == 201
    assert len(support_service.list_support_alerts(runtime.redis, datetime.now(UTC))) == 2
