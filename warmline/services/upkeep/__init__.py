"""Background upkeep: aggregates, retention, recurring jobs, recovery after a Redis loss."""
