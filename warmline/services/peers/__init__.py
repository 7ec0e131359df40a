"""What a peer does and sees: dashboard, presence and breaks, shifts, swaps, drop-ins, hours."""
