"""RQ job functions (one service call each) and the worker entry point; import paths are public API."""
