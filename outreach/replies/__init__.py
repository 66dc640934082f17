"""Inbound mail: store, parse, thread, classify, and act on replies."""
