"""Settle: the backend for municipal settlement services."""
