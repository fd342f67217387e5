"""The per-request GraphQL context, built from the same dependencies as REST."""

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.fastapi import BaseContext

from app.api.caching import PublicCache
from app.api.deps import CacheDep, OptionalPrincipal, SessionDep, SettingsDep
from app.core.config import Settings
from app.graphql.loaders import Loaders
from app.services.auth import Principal


class Context(BaseContext):
    def __init__(
        self,
        *,
        session: AsyncSession,
        principal: Principal | None,
        cache: PublicCache,
        settings: Settings,
    ) -> None:
        super().__init__()
        self.session = session
        self.principal = principal
        self.cache = cache
        self.settings = settings
        self.loaders = Loaders(session)


async def get_context(
    session: SessionDep,
    principal: OptionalPrincipal,
    cache: CacheDep,
    settings: SettingsDep,
) -> Context:
    return Context(session=session, principal=principal, cache=cache, settings=settings)
