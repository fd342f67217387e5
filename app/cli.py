"""`settle`: the command line for operators and for the README's quick start."""

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from app.core.config import get_settings


def _migrate(_: argparse.Namespace) -> int:
    from app.core.migrate import head_revision, upgrade

    settings = get_settings()
    upgrade(settings)
    print(f"Database at migration {head_revision(settings)} ({_redacted(settings.database_url)})")
    return 0


async def _seed_async() -> int:
    from app.core.db import create_engine, create_session_factory
    from app.seed.loader import seed

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            report = await seed(session=session, settings=settings)
            await session.commit()
    finally:
        await engine.dispose()
    for line in report.created:
        print(f"created {line}")
    for line in report.updated:
        print(f"updated {line}")
    if not report.changed:
        print("Seed data already up to date.")
    return 0


def _seed(_: argparse.Namespace) -> int:
    return asyncio.run(_seed_async())


async def _create_user_async(args: argparse.Namespace, password: str) -> int:
    from app.core.db import create_engine, create_session_factory
    from app.core.errors import DomainError
    from app.models.user import Role
    from app.services.user import ensure_account

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            try:
                user, created = await ensure_account(
                    session=session,
                    email=args.email,
                    password=password,
                    display_name=args.name or args.email.split("@")[0],
                    role=Role(args.role),
                    municipality_slug=args.municipality,
                )
            except DomainError as error:
                print(f"error: {error.detail}", file=sys.stderr)
                return 2
            await session.commit()
    finally:
        await engine.dispose()
    print(f"{'created' if created else 'already exists'}: {user.email} ({user.id})")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    password = os.environ.get("SETTLE_PASSWORD") or getpass.getpass("Password (12+ characters): ")
    return asyncio.run(_create_user_async(args, password))


def _openapi(_: argparse.Namespace) -> int:
    from app.contracts import write

    for path in write():
        print(f"wrote {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    base = f"http://{host}:{port}"
    print(f"Settle API on {base}")
    print(f"  Swagger UI: {base}/docs")
    print(f"  GraphiQL:   {base}/graphql")
    sys.stdout.flush()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers or settings.workers,
        log_level="info",
        access_log=not args.no_access_log,
    )
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="settle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every Alembic migration").set_defaults(run=_migrate)
    commands.add_parser("seed", help="load the seed data (idempotent)").set_defaults(run=_seed)
    create = commands.add_parser(
        "create-user", help="create a staff account (password from SETTLE_PASSWORD or a prompt)"
    )
    create.add_argument("email")
    create.add_argument(
        "--role",
        default="platform_admin",
        choices=["platform_admin", "municipality_admin", "editor", "comms", "guide"],
    )
    create.add_argument("--municipality", help="slug, for every role but platform_admin")
    create.add_argument("--name", help="display name shown to colleagues")
    create.set_defaults(run=_create_user)
    commands.add_parser(
        "openapi", help="write openapi/openapi.json and openapi/schema.graphql"
    ).set_defaults(run=_openapi)
    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--no-access-log", action="store_true")
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
