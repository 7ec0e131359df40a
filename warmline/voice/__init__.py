"""The voice flow: what a caller hears and chooses, from the first ring to the peer's wrap-up."""
