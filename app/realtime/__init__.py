"""Publish/subscribe for live screens. It knows no domain: channels are strings, messages are text."""
