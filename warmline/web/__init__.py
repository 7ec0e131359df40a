"""Thin Flask blueprints: Twilio webhooks, dashboard, admin, API and health."""
