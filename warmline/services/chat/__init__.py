"""Web chat: a chatter on an organisation's site reaching a peer, over plain HTTP."""
