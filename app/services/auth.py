"""Who is asking, and what they may do in which municipality."""

import uuid
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Forbidden, NotFound
from app.core.security import hash_password, needs_rehash, verify_password
from app.models.user import ROLE_RANK, Role, RoleGrant, User


@dataclass
class Principal:
    """A signed-in staff member with their role grants."""

    user: User
    grants: list[RoleGrant] = field(default_factory=list)

    @property
    def is_platform_admin(self) -> bool:
        return any(grant.role == Role.platform_admin for grant in self.grants)

    def roles_in(self, municipality_id: uuid.UUID) -> set[Role]:
        return {
            Role(grant.role) for grant in self.grants if grant.municipality_id == municipality_id
        }

    def municipality_ids(self) -> set[uuid.UUID]:
        return {grant.municipality_id for grant in self.grants if grant.municipality_id}

    def is_member(self, municipality_id: uuid.UUID) -> bool:
        return self.is_platform_admin or bool(self.roles_in(municipality_id))

    def has_role(self, municipality_id: uuid.UUID, *roles: Role) -> bool:
        """Platform admins hold every role everywhere; others only where granted."""
        return self.is_platform_admin or bool(self.roles_in(municipality_id) & set(roles))

    def highest_rank_in(self, municipality_id: uuid.UUID) -> int:
        if self.is_platform_admin:
            return ROLE_RANK[Role.platform_admin]
        return max((ROLE_RANK[role] for role in self.roles_in(municipality_id)), default=0)


def require_read(
    principal: Principal | None, municipality_id: uuid.UUID, *roles: Role
) -> Principal:
    """Reading non-public data: outsiders get 404, so they learn nothing of what exists."""
    if principal is None or not principal.is_member(municipality_id):
        raise NotFound("No such resource.")
    if roles and not principal.has_role(municipality_id, *roles):
        raise Forbidden("Your role in this municipality does not allow this.")
    return principal


def require_write(principal: Principal, municipality_id: uuid.UUID, *roles: Role) -> Principal:
    """Writing: anyone without one of `roles` in this municipality gets 403."""
    if not principal.has_role(municipality_id, *roles):
        raise Forbidden("Your role in this municipality does not allow this change.")
    return principal


def require_platform_admin(principal: Principal) -> Principal:
    if not principal.is_platform_admin:
        raise Forbidden("Only a platform administrator may do this.")
    return principal


async def load_principal(
    *, session: AsyncSession, user_id: uuid.UUID, token_version: int
) -> Principal | None:
    """The active user with their grants, or None: unknown, disabled, or the token was
    issued before the account's tokens were revoked (its version is not the current)."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.token_version != token_version:
        return None
    grants = await session.exec(select(RoleGrant).where(col(RoleGrant.user_id) == user_id))
    return Principal(user=user, grants=list(grants))


def revoke_tokens(user: User) -> None:
    """Every access token issued to `user` so far stops working (they name the old
    version); tokens issued from now on work."""
    user.token_version += 1


def set_password(user: User, password: str) -> None:
    """A new password signs the account out everywhere: whoever held a token because
    they knew the old password (or stole a token) loses it."""
    user.password_hash = hash_password(password)
    revoke_tokens(user)


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with this email and password, or None; argon2 runs either way."""
    result = await session.exec(select(User).where(col(User.email) == email.strip().lower()))
    user = result.first()
    if not verify_password(password, user.password_hash if user else None):
        return None
    if user is None or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await session.flush()
    return user
