"""Domain logic: keyword-only async functions that flush, never commit, and raise
domain errors from `app.core.errors`. No FastAPI, no Strawberry here."""
