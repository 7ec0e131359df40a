"""Rate limits kept by Flask-Limiter in Redis: failed sign-ins per client address, and how often
one peer can raise "need support".

The address is `request.remote_addr`: the real client's when the app trusts its proxies
(`WARMLINE_PROXY_HOPS`), never a header a client could set itself. The key holds a keyed hash of
it (a plain hash of an IPv4 address is undone by hashing all four billion), so no key in Redis
turns back into who tried to sign in or chat from where; Flask-Limiter's INFO line naming a
held-back key is silenced too (`warmline.logs`). When Redis does not answer, the limits let
requests through (`swallow_errors`): sign-in and "need support" then work as before, unlimited,
rather than fail for everyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit

from warmline import keys
from warmline.runtime import Runtime
from warmline.web.context import current_runtime
from warmline.web.security import is_twilio_request

SIGN_IN_FAILURES_PER_ADDRESS = "30 per 15 minutes"
"""Wrong passwords from one address before it must wait. Higher than one person needs: an office
or a shelter shares one address. Only failures count, so a room signing in at shift change is
never held up."""
SIGN_IN_LIMIT_CONFIG = "WARMLINE_SIGN_IN_FAILURES_PER_ADDRESS"  # tests lower it, saving argon2 time
SUPPORT_ALERTS_PER_PEER = "1 per 5 minutes"
"""One "need support" reaches every admin (a text each when none is on shift); a second press a
minute later adds nothing but noise, and thirty would push real alerts off the admins' list."""
SUPPORT_SCOPE = "support-alert"  # the dashboard button and the API share one count
# Keeps these hashes apart from the pseudonyms made with the same key (chatters', callers').
_ADDRESS_PURPOSE = "rate-limit-address:"


def sign_in_failures_per_address() -> str:
    limit: str = current_app.config.get(SIGN_IN_LIMIT_CONFIG, SIGN_IN_FAILURES_PER_ADDRESS)
    return limit


def client_address() -> str:
    """The requesting client's address as a limit's key: a keyed hash, never the address."""
    address = request.remote_addr or "unknown"
    return "addr-" + current_runtime().keys.keyed_hash(_ADDRESS_PURPOSE + address)[:32]


def signed_in_user() -> str:
    """The signed-in user's id. A signed-out request is refused by the view (401) and, being
    refused, never counted, so they may share one key."""
    from warmline.web.auth import current_user  # noqa: PLC0415 - auth's views use this module

    user = current_user()
    return f"user-{user.id}" if user is not None else "signed-out"


limiter = Limiter(
    key_func=client_address,
    strategy="moving-window",
    swallow_errors=True,
    headers_enabled=False,
)
# Twilio's webhooks carry no limits (Twilio signs them; a caller's floods are counted by the
# voice and texts services), yet the limiter worked out each one's limits afresh: 4% of the web
# workers' CPU under bench/voice.py (py-spy --gil). A request filter skips that at its start.
limiter.request_filter(is_twilio_request)


def failed(status: int) -> Callable[[Response], bool]:
    """deduct_when: count a request only when it was answered with `status`."""
    return lambda response: response.status_code == status


def succeeded(response: Response) -> bool:
    return response.status_code < 400


def seconds_until_reset(limit: RequestLimit) -> int:
    return max(1, int(limit.reset_at - time.time()))


def init_app(app: Flask, runtime: Runtime) -> None:
    """Counters in the app's own Redis (its pool, so a Sentinel failover is followed too).

    The limiter is one per process, since the views' decorators are made at import; each app
    `create_app` makes points it at that app's Redis. A process serves one app (gunicorn's
    workers), and tests make theirs one after another.
    """
    app.config["RATELIMIT_STORAGE_URI"] = "redis://"
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        "connection_pool": runtime.redis.connection_pool,
        "key_prefix": keys.rate_limits_prefix(),
    }
    limiter.init_app(app)
