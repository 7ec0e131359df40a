"""Callbacks: placing a taken request (the peer first, then the caller) and its calls' webhooks."""
