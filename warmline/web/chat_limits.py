"""The web chat's rate limits, kept by Flask-Limiter like every other limit (warmline.web.limits).

Per client address (the real client's when WARMLINE_PROXY_HOPS trusts the proxies: ProxyFix has
set `remote_addr`) and per chat token. The address is a keyed hash in the counter's key
(`limits.client_address`), the token a plain digest (a random token cannot be guessed back from
it), so Redis never lists an address or holds a token.
"""

from __future__ import annotations

import hashlib
from typing import Final

from flask import request

# New chats from one client address in an hour: an office or a shelter shares an address.
CHATS_PER_ADDRESS_PER_HOUR: Final = 10
# Messages a minute: one chatter types far fewer; many chatters behind one address a few more.
MESSAGES_PER_TOKEN_PER_MINUTE: Final = 20
MESSAGES_PER_ADDRESS_PER_MINUTE: Final = 60
# Reads a minute per token: a long poll is one every few seconds; a broken loop is many more.
READS_PER_TOKEN_PER_MINUTE: Final = 120
# "Text me instead" makes the line send a text: a few an hour from one address, so the widget
# cannot be used to send texts to strangers' phones in bulk.
TEXT_ME_PER_ADDRESS_PER_HOUR: Final = 3

STARTS_PER_ADDRESS: Final = f"{CHATS_PER_ADDRESS_PER_HOUR} per hour"
MESSAGES_PER_TOKEN: Final = f"{MESSAGES_PER_TOKEN_PER_MINUTE} per minute"
MESSAGES_PER_ADDRESS: Final = f"{MESSAGES_PER_ADDRESS_PER_MINUTE} per minute"
READS_PER_TOKEN: Final = f"{READS_PER_TOKEN_PER_MINUTE} per minute"
TEXT_ME_PER_ADDRESS: Final = f"{TEXT_ME_PER_ADDRESS_PER_HOUR} per hour"


def chat_token() -> str:
    """The chat's token from its `Authorization: Bearer` header, as a digest."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    return "chat-" + hashlib.sha256(token.encode()).hexdigest()[:32]
