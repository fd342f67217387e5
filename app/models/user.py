"""Staff accounts and their roles. Movers never have accounts."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.validation import Email, Slug
from app.models.base import PatchModel, Timestamped, uuid_pk


class Role(StrEnum):
    platform_admin = "platform_admin"
    municipality_admin = "municipality_admin"
    editor = "editor"
    comms = "comms"
    guide = "guide"
    # A member of the experiment fund's jury ("raati"): scores ideas, sees applicants.
    juror = "juror"


# Higher ranks may grant the roles at or below them; editor, comms, guide and juror
# are peers, so a municipality admin appoints the jury.
ROLE_RANK: dict[Role, int] = {
    Role.platform_admin: 3,
    Role.municipality_admin: 2,
    Role.editor: 1,
    Role.comms: 1,
    Role.guide: 1,
    Role.juror: 1,
}


class User(Timestamped, table=True):
    __tablename__ = "user_account"

    id: uuid.UUID = uuid_pk()
    email: str = Field(unique=True, max_length=254)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    # Named in every access token; bumped to revoke them all (services/auth.py).
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class RoleGrant(SQLModel, table=True):
    """One role of one user in one municipality (none for platform admins)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "municipality_id"),)

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=32)
    municipality_id: uuid.UUID | None = Field(
        default=None, foreign_key="municipality.id", ondelete="CASCADE", index=True
    )


class RoleGrantIn(BaseModel):
    """A role as written: `municipality` is a slug, absent only for platform_admin."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    municipality: Slug | None = None


class RoleGrantPublic(BaseModel):
    role: Role
    municipality: str | None


Password = PydanticField(min_length=12, max_length=200)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: str = PydanticField(min_length=1, max_length=200)
    password: str = Password
    roles: list[RoleGrantIn] = PydanticField(min_length=1, max_length=50)


class UserUpdate(PatchModel):
    """A partial update; `roles`, when sent, replaces the whole list."""

    display_name: str | None = PydanticField(default=None, min_length=1, max_length=200)
    password: str | None = PydanticField(default=None, min_length=12, max_length=200)
    is_active: bool | None = None
    roles: list[RoleGrantIn] | None = PydanticField(default=None, min_length=1, max_length=50)


class UserPublic(BaseModel):
    """An account as staff see it (never on a public endpoint)."""

    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    roles: list[RoleGrantPublic]
    created_at: datetime
    updated_at: datetime


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
