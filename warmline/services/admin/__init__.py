"""What admins do and see: lines, experiences, peers, shifts, the roster week, board, reports."""
