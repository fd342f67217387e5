"""Seed data as data files, and the idempotent loader that puts them in the database."""
