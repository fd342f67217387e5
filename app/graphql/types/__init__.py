"""Strawberry types, one module per domain, built from service results with from_model()."""
