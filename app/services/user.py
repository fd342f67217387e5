"""Staff accounts: created and managed through the API by admins."""

import uuid
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from app.core.pagination import Page, as_text, decode_cursor, encode_cursor
from app.core.security import hash_password
from app.core.time import utcnow
from app.models.municipality import Municipality
from app.models.user import (
    ROLE_RANK,
    Role,
    RoleGrant,
    RoleGrantIn,
    RoleGrantPublic,
    User,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from app.services.auth import Principal, require_platform_admin, revoke_tokens, set_password
from app.services.tenancy import scoped


def _admin_municipalities(principal: Principal) -> set[uuid.UUID]:
    return {
        grant.municipality_id
        for grant in principal.grants
        if grant.role == Role.municipality_admin and grant.municipality_id is not None
    }


def _require_user_admin(principal: Principal) -> None:
    if not principal.is_platform_admin and not _admin_municipalities(principal):
        raise Forbidden("Only administrators manage staff accounts.")


async def _grants_of(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[RoleGrant]]:
    grants: dict[uuid.UUID, list[RoleGrant]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        rows = await session.exec(select(RoleGrant).where(col(RoleGrant.user_id).in_(user_ids)))
        for grant in rows:
            grants[grant.user_id].append(grant)
    return grants


async def to_public(
    *, session: AsyncSession, users: list[User], grants: dict[uuid.UUID, list[RoleGrant]]
) -> list[UserPublic]:
    """Users with their roles, municipality ids shown as slugs (two queries in all)."""
    ids = {g.municipality_id for gs in grants.values() for g in gs if g.municipality_id}
    slugs: dict[uuid.UUID, str] = {}
    if ids:
        rows = await session.exec(
            select(Municipality.id, Municipality.slug).where(col(Municipality.id).in_(ids))
        )
        slugs = dict(rows.all())
    return [
        UserPublic(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_active=user.is_active,
            roles=[
                RoleGrantPublic(
                    role=Role(g.role),
                    municipality=slugs.get(g.municipality_id) if g.municipality_id else None,
                )
                for g in sorted(
                    grants.get(user.id, []), key=lambda g: (g.role, str(g.municipality_id))
                )
            ],
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        for user in users
    ]


def _user_statement(principal: Principal, municipality_id: uuid.UUID | None):  # type: ignore[no-untyped-def]
    statement = select(User)
    if municipality_id is not None or not principal.is_platform_admin:
        members = select(RoleGrant.user_id)
        members = scoped(members, RoleGrant.municipality_id, principal)
        if municipality_id is not None:
            members = members.where(col(RoleGrant.municipality_id) == municipality_id)
        statement = statement.where(col(User.id).in_(members))
    return statement


async def list_page(
    *,
    session: AsyncSession,
    principal: Principal,
    limit: int,
    cursor: str | None = None,
    municipality_id: uuid.UUID | None = None,
    modified_since: datetime | None = None,
) -> Page[UserPublic]:
    """Accounts the principal administers, ordered by email."""
    _require_user_admin(principal)
    filtered = _user_statement(principal, municipality_id)
    if modified_since is not None:
        filtered = filtered.where(col(User.updated_at) >= modified_since)
    total = (await session.exec(select(func.count()).select_from(filtered.subquery()))).one()
    after = decode_cursor("users", cursor, as_text)
    statement = filtered.order_by(col(User.email)).limit(limit + 1)
    if after is not None:
        statement = statement.where(col(User.email) > after[0])
    users = list(await session.exec(statement))
    next_cursor = None
    if len(users) > limit:
        users = users[:limit]
        next_cursor = encode_cursor("users", [users[-1].email])
    grants = await _grants_of(session, [user.id for user in users])
    items = await to_public(session=session, users=users, grants=grants)
    return Page(items=items, next_cursor=next_cursor, total=total)


async def get(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> tuple[User, list[RoleGrant]]:
    """An account the principal may see: themselves, or one they administer (else 404)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    grants = (await _grants_of(session, [user_id]))[user_id]
    if user_id != principal.user.id and not _may_manage(principal, grants):
        raise NotFound("No such user.")
    return user, grants


def _may_manage(principal: Principal, grants: list[RoleGrant]) -> bool:
    """Platform admins manage everyone; a municipality admin only accounts wholly inside
    municipalities they administer (never someone who also works for another one)."""
    if principal.is_platform_admin:
        return True
    mine = _admin_municipalities(principal)
    return bool(grants) and all(
        g.role != Role.platform_admin and g.municipality_id in mine for g in grants
    )


async def _resolve_grants(
    session: AsyncSession, principal: Principal, roles: list[RoleGrantIn]
) -> list[tuple[Role, uuid.UUID | None]]:
    slugs = {grant.municipality for grant in roles if grant.municipality}
    found: dict[str, uuid.UUID] = {}
    if slugs:
        rows = await session.exec(
            select(Municipality.slug, Municipality.id).where(col(Municipality.slug).in_(slugs))
        )
        found = dict(rows.all())
    resolved: list[tuple[Role, uuid.UUID | None]] = []
    problems: list[FieldProblem] = []
    for index, grant in enumerate(roles):
        where = f"body.roles[{index}]"
        if grant.role == Role.platform_admin:
            if grant.municipality is not None:
                problems.append(
                    FieldProblem(
                        f"{where}.municipality", "platform_admin is not bound to a municipality"
                    )
                )
                continue
            require_platform_admin(principal)
            resolved.append((grant.role, None))
            continue
        if grant.municipality is None:
            problems.append(
                FieldProblem(f"{where}.municipality", "this role needs a municipality", "missing")
            )
            continue
        municipality_id = found.get(grant.municipality)
        if municipality_id is None:
            problems.append(
                FieldProblem(
                    f"{where}.municipality", f"unknown municipality '{grant.municipality}'"
                )
            )
            continue
        if not principal.is_platform_admin and (
            municipality_id not in _admin_municipalities(principal)
            or ROLE_RANK[grant.role] > principal.highest_rank_in(municipality_id)
        ):
            raise Forbidden(
                "You can grant roles only in your own municipality and no higher than your own."
            )
        resolved.append((grant.role, municipality_id))
    if problems:
        raise ValidationFailed("Some roles are invalid.", errors=problems)
    return list(dict.fromkeys(resolved))


async def _replace_grants(
    session: AsyncSession, user_id: uuid.UUID, grants: list[tuple[Role, uuid.UUID | None]]
) -> list[RoleGrant]:
    await session.exec(delete(RoleGrant).where(col(RoleGrant.user_id) == user_id))  # type: ignore[call-overload]
    rows = [
        RoleGrant(user_id=user_id, role=role.value, municipality_id=mid) for role, mid in grants
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def create(*, session: AsyncSession, principal: Principal, data: UserCreate) -> UserPublic:
    """A new staff account with its roles, within what the creator may grant."""
    _require_user_admin(principal)
    grants = await _resolve_grants(session, principal, data.roles)
    clash = (await session.exec(select(User.id).where(col(User.email) == data.email))).first()
    if clash is not None:
        raise Conflict("An account with this email already exists.", code="duplicate")
    user = User(
        email=data.email, display_name=data.display_name, password_hash=hash_password(data.password)
    )
    session.add(user)
    await session.flush()
    rows = await _replace_grants(session, user.id, grants)
    return (await to_public(session=session, users=[user], grants={user.id: rows}))[0]


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    user: User,
    grants: list[RoleGrant],
    data: UserUpdate,
) -> UserPublic:
    """Rename, reset the password, disable or re-role an account the principal manages."""
    if not _may_manage(principal, grants):
        raise Forbidden("You may not manage this account.")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("is_active") is False and user.id == principal.user.id:
        raise Conflict("You cannot disable your own account.")
    if data.roles is not None:
        grants = await _replace_grants(
            session, user.id, await _resolve_grants(session, principal, data.roles)
        )
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.password is not None:
        set_password(user, data.password)
    if data.is_active is not None:
        if user.is_active and not data.is_active:
            # Disabling throws the person out for good: enabling the account again
            # must not bring back the tokens they held.
            revoke_tokens(user)
        user.is_active = data.is_active
    user.updated_at = utcnow()
    user.version += 1
    session.add(user)
    await session.flush()
    return (await to_public(session=session, users=[user], grants={user.id: grants}))[0]


async def ensure_account(
    *,
    session: AsyncSession,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    municipality_slug: str | None = None,
) -> tuple[User, bool]:
    """Create an account with one role unless the email exists (for the CLI and seeding,
    which act as the system, not as a signed-in admin). Returns (user, created)."""
    email = email.strip().lower()
    existing = (await session.exec(select(User).where(col(User.email) == email))).first()
    if existing is not None:
        return existing, False
    municipality_id = None
    if role != Role.platform_admin:
        if municipality_slug is None:
            raise ValidationFailed(f"The role {role.value} needs a municipality.")
        found = (
            await session.exec(
                select(Municipality.id).where(col(Municipality.slug) == municipality_slug)
            )
        ).first()
        if found is None:
            raise NotFound(f"No municipality '{municipality_slug}'.")
        municipality_id = found
    if len(password) < 12:
        raise ValidationFailed("The password must be at least 12 characters long.")
    user = User(email=email, display_name=display_name, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    await _replace_grants(session, user.id, [(role, municipality_id)])
    return user, True
