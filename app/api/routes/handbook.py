"""Placeholder router, filled in by the handbook work in progress (this session)."""

from fastapi import APIRouter

router = APIRouter(prefix="/municipalities/{slug}", tags=["handbook"])
