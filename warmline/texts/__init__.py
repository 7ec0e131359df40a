"""Texts: keywords, segments, risk words, conversation storage in Redis and messaging TwiML."""
