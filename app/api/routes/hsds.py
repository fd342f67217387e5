"""Placeholder router, filled in by the hsds work in progress (this session)."""

from fastapi import APIRouter

router = APIRouter(prefix="/municipalities/{slug}", tags=["hsds"])
