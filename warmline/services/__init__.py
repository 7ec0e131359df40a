"""Use-cases: load, decide (domain), persist, enqueue; each owns its transaction."""
