"""Warmline: routes a peer-run warmline's calls and texts to peers who share the caller's experience."""
