"""Clients of third-party APIs whose address is the operator's setting, never user input."""
