"""Benchmarks: scripts that print tables (run them with `python bench/NAME.py`)."""
