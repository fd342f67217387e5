"""Column helpers shared by the tables."""

import uuid
from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from app.core.time import UTCDateTime, utcnow


def uuid_pk() -> Any:
    """A random UUID primary key: stable across exports, unguessable in URLs."""
    return Field(default_factory=uuid.uuid4, primary_key=True)


def utc_field(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index, nullable=nullable)


class Timestamped(SQLModel):
    """`created_at` / `updated_at` (indexed: `modified_since` filters on it) and a row
    version that makes ETags and If-Match checks cheap."""

    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)
    version: int = Field(default=1)


class PatchModel(BaseModel):
    """Base of partial updates: a field left out is unchanged, and an explicit null is
    refused unless the field is listed in `nullable_fields` (null there means clear)."""

    model_config = ConfigDict(extra="forbid")
    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable_fields:
                raise PydanticCustomError("null_not_allowed", f"{name} cannot be null")
        return self
