"""Roster file: validate, import and export lines, experiences, peers and shifts."""
