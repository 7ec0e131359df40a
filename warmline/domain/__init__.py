"""Pure domain logic: no Flask, SQLAlchemy, Redis, RQ or Twilio; time is always a parameter."""
