"""`python -m warmline simulate`: a shift through the real app, worker and Twilio stand-in."""
