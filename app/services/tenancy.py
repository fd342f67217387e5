"""The one helper every tenant-scoped query goes through."""

import uuid
from typing import Any, TypeVar

from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from app.services.auth import Principal

T = TypeVar("T")


def visible_municipality_ids(principal: Principal) -> set[uuid.UUID] | None:
    """The municipalities whose private data `principal` may see; None means all."""
    return None if principal.is_platform_admin else principal.municipality_ids()


def scoped(
    statement: SelectOfScalar[T], municipality_column: Any, principal: Principal
) -> SelectOfScalar[T]:
    """Restrict `statement` to the principal's municipalities (platform admins see all)."""
    allowed = visible_municipality_ids(principal)
    if allowed is None:
        return statement
    return statement.where(col(municipality_column).in_(allowed))
