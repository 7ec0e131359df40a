"""Texts: an inbound message, a conversation's life, peers' commands and notices by text."""
