"""The application factory: routers, GraphQL, error handlers, CORS, caches."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import metrics, problems, requestid
from app.api.bodylimit import BodyLimit
from app.api.caching import FastLane, PublicCache
from app.api.freshness import NoCarrier, build_carrier
from app.api.observe import Observe
from app.api.routes import (
    analytics,
    auth,
    bookings,
    changes,
    comms_plans,
    fund,
    guides,
    handbook,
    health,
    hsds,
    journey,
    landing,
    messages,
    municipalities,
    personas,
    roadmap,
    service_cards,
    stories,
    users,
    webhooks,
)
from app.api.textguard import TextGuard
from app.core.config import Settings, get_settings
from app.core.db import SessionFactory, create_engine, create_session_factory
from app.core.logging import configure_logging
from app.core.migrate import head_revision
from app.core.ratelimit import build_limiter
from app.graphql.schema import build_router, build_schema

API_PREFIX = "/api/v1"


def operation_id(route: APIRoute) -> str:
    """Stable operationIds: the handler's name, which the code review keeps unique."""
    return route.name


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    session_factory: SessionFactory | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own session factory (one transaction per test)."""
    settings = settings or get_settings()
    configure_logging(settings)  # unless `settle serve` (uvicorn) or a test runner did
    owns_engine = engine is None and session_factory is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_engine:
            # Everything built at startup (modules, the schemas, SQLAlchemy's and
            # pydantic's caches) lives as long as the process; frozen, the collector
            # stops walking it on every full collection. Measured: GraphQL card pages
            # under load 60 → 100 req/s (bench/README.md). Not in tests, which build
            # many apps in one process.
            gc.collect()
            gc.freeze()
            # Only a served app listens: the tests' apps share one rolled-back
            # transaction, in which no notice is ever sent.
            app.state.freshness = build_carrier(settings, app.state.cache)
            await app.state.freshness.start()
        try:
            yield
        finally:
            if owns_engine:
                await app.state.freshness.stop()
                await app.state.engine.dispose()

    app = FastAPI(
        title="Settle: settlement services API",
        version="1.0.0",
        summary="Everything a person moving to a Finnish municipality needs to find, book and ask.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=[
            {"name": "municipalities", "description": "The tenants: every municipality served."},
            {
                "name": "service-cards",
                "description": "Topic cards of providers, services and checklists for movers.",
            },
            {
                "name": "handbook",
                "description": "The mover's handbook compiled from the published cards.",
            },
            {"name": "hsds", "description": "Open Referral HSDS 3.0 open-data export."},
            {"name": "guides", "description": "Local guides, their terms and availability."},
            {"name": "bookings", "description": "Meetings booked without an account."},
            {"name": "messages", "description": "Ask by message; the staff inbox."},
            {"name": "info-package", "description": "The info package ordered by email."},
            {
                "name": "personas",
                "description": "Mover segments and personas, their recommendations, the "
                "service promise.",
            },
            {"name": "journey", "description": "The mover's journey, stage by stage."},
            {"name": "landing", "description": "The mover landing page in one call."},
            {"name": "stories", "description": "Stories of work and life, and moderation."},
            {
                "name": "comms-plans",
                "description": "Communication plans, their approval and calendar (comms staff).",
            },
            {
                "name": "analytics",
                "description": "Quarterly analytics snapshots, comparisons and the report.",
            },
            {
                "name": "fund",
                "description": "The experiment fund: rounds, residents' ideas, the jury's "
                "scores and decision, funded experiments and their reports.",
            },
            {
                "name": "roadmap",
                "description": "The roadmap's phases, goals and pilots, and the yearly "
                "review of the operating model.",
            },
            {
                "name": "webhooks",
                "description": "Signed change events (Standard Webhooks) posted to a "
                "municipality's subscribers, and their delivery log.",
            },
            {"name": "auth", "description": "Staff sign-in."},
            {"name": "users", "description": "Staff accounts and roles."},
            {"name": "health", "description": "Liveness and readiness."},
        ],
    )
    if session_factory is None:
        engine = engine or create_engine(settings.database_url, echo=settings.log_sql)
        session_factory = create_session_factory(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.cache = PublicCache(
        ttl=settings.cache_version_ttl_seconds, max_entries=settings.cache_max_entries
    )
    app.state.rate_limiter = build_limiter(settings.redis_url)
    app.state.freshness = NoCarrier()
    app.state.migration_head = head_revision(settings)

    problems.install(app)
    app.add_middleware(FastLane, cache=app.state.cache)
    app.add_middleware(TextGuard)  # outside the FastLane: a cached path must not see NUL
    app.add_middleware(  # outside every body reader: it counts before they buffer
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_import_bytes=settings.max_import_body_bytes,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "Accept-Language",
                requestid.HEADER,
            ],
            expose_headers=[
                "ETag",
                "Content-Language",
                "Location",
                "Retry-After",
                requestid.HEADER,
            ],
            max_age=600,
        )
    # Keep these two last but one: they must see every answer, the FastLane's and
    # refusals too.
    app.add_middleware(Observe, router=app.router)
    requestid.install(app)
    if settings.forwarded_allow_ips:
        # Outermost, so everything inside (the access log and the rate limits too) sees
        # the client a trusted proxy reported. It only rewrites the scope, never answers.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth.router)
    api.include_router(users.router)
    api.include_router(municipalities.router)
    api.include_router(service_cards.router)
    api.include_router(handbook.router)
    api.include_router(hsds.router)
    api.include_router(guides.router)
    api.include_router(bookings.router)
    api.include_router(messages.router)
    api.include_router(comms_plans.router)
    api.include_router(analytics.router)
    api.include_router(fund.router)
    api.include_router(roadmap.router)
    api.include_router(personas.router)
    api.include_router(journey.router)
    api.include_router(landing.router)
    api.include_router(stories.router)
    api.include_router(webhooks.router)
    api.include_router(changes.router)
    app.include_router(api)
    webhooks.document_events(app)
    app.include_router(health.router)
    metrics.install(app)

    schema = build_schema(settings)
    app.state.graphql_schema = schema
    app.include_router(build_router(schema), prefix="/graphql", include_in_schema=False)
    logging.getLogger("settle").setLevel(settings.log_level)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for tools that want an application object (uvicorn without
    --factory, checks that import it); built on first access, not at import."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
