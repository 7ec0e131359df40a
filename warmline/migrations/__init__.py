"""Alembic migrations; run with `python -m warmline db upgrade`."""
