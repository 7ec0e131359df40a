"""Sign-ins: passwords, sessions, invitations and reset links."""
