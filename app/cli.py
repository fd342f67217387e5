"""`settle`: the command line for operators and for the README's quick start."""

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from typing import Any

from app.core.config import Settings, get_settings


def _migrate(_: argparse.Namespace) -> int:
    from app.core.migrate import head_revision, upgrade

    settings = get_settings()
    upgrade(settings)
    print(f"Database at migration {head_revision(settings)} ({_redacted(settings.database_url)})")
    return 0


async def _seed_async(if_empty: bool = False, no_demo: bool = False) -> int:
    from sqlmodel import select

    from app.core.db import create_engine, create_session_factory
    from app.models.municipality import Municipality
    from app.seed.loader import SeedReport, seed, seed_first_admin

    settings = get_settings()
    # The fictional demo guides and stories: development only, unless --no-demo.
    demo = settings.environment == "development" and not no_demo
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            seeded = (await session.exec(select(Municipality.id).limit(1))).first() is not None
            if if_empty and seeded:
                # A container restarting must not bring the municipalities' own fields
                # back to the seed's values over what their admins have edited since.
                print("The database has data already: only the first admin is ensured.")
                report = SeedReport()
                await seed_first_admin(session, settings, report)
            else:
                report = await seed(session=session, settings=settings, demo=demo)
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


def _seed(args: argparse.Namespace) -> int:
    return asyncio.run(_seed_async(if_empty=args.if_empty, no_demo=args.no_demo))


async def _purge_demo_async() -> int:
    from app.core.db import create_engine, create_session_factory
    from app.services.demo import purge

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            report = await purge(session=session)
            await session.commit()
    finally:
        await engine.dispose()
    print(
        f"Removed the demo: {report.guides} guides, {report.slots} slots, "
        f"{report.bookings} bookings, {report.stories} stories."
    )
    return 0


def _purge_demo(_: argparse.Namespace) -> int:
    return asyncio.run(_purge_demo_async())


async def _onboard_async(args: argparse.Namespace) -> int:
    from app.core.db import create_engine, create_session_factory
    from app.core.errors import DomainError
    from app.services import municipality as municipality_service
    from app.services import onboarding
    from app.services.service_card import SYSTEM

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            try:
                target = await municipality_service.get_by_slug(session=session, slug=args.slug)
                source = await municipality_service.get_by_slug(
                    session=session, slug=args.from_municipality
                )
                outcome = await onboarding.onboard(
                    session=session, source=source, target=target, actor=SYSTEM, parts=args.parts
                )
            except DomainError as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            await session.commit()
    finally:
        await engine.dispose()
    copied = ", ".join(f"{part} {count}" for part, count in outcome.copied.items())
    print(f"Onboarded {args.slug} from {args.from_municipality}: {copied}.")
    for item in outcome.review:
        print(f"review {item['resource']} {item['field']}")
    return 0


def _onboard(args: argparse.Namespace) -> int:
    return asyncio.run(_onboard_async(args))


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


def uvicorn_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """What `settle serve` runs uvicorn with.

    uvicorn's own forwarded-header handling is off: left on, it believes X-Forwarded-For
    from 127.0.0.1 (or whatever its own reading of FORWARDED_ALLOW_IPS says), so behind
    a local proxy that passes the header through every client could choose its address
    and its rate-limit bucket. The app applies FORWARDED_ALLOW_IPS itself (create_app),
    the same however it is served.
    """
    return {
        "app": "app.main:create_app",
        "factory": True,
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "workers": args.workers or settings.workers,
        "log_level": settings.log_level.lower(),
        # The app writes the access log itself (app.api.observe), redacted and with the
        # request id; uvicorn's own printed manage-link tokens.
        "access_log": False,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
    }


def serving_settings(args: argparse.Namespace) -> Settings:
    """The settings `settle serve` runs with: `--host` and `--port` go into the
    environment first, so every worker process reads them, and so does what is derived
    from them (PUBLIC_BASE_URL when unset: links in emails must name the serving port)."""
    if args.host:
        os.environ["HOST"] = args.host
    if args.port:
        os.environ["PORT"] = str(args.port)
    get_settings.cache_clear()
    return get_settings()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.core.logging import log_config

    settings = serving_settings(args)
    options = uvicorn_options(args, settings)
    base = f"http://{options['host']}:{options['port']}"
    if settings.log_format == "text":  # JSON logs stay JSON lines only
        print(f"Settle API on {base}")
        print(f"  Swagger UI: {base}/docs")
        print(f"  GraphiQL:   {base}/graphql")
        sys.stdout.flush()
    # Applied in every worker process. The app writes the access log itself (redacted,
    # with request ids); uvicorn's own stays off.
    uvicorn.run(
        **options,
        log_config=log_config(settings, access_log=False if args.no_access_log else None),
    )
    return 0


async def _worker_async(once: bool) -> int:
    import signal

    from app.core.db import create_engine, create_session_factory
    from app.services.mailer import (
        deliver_due,
        enqueue_reminders,
        enqueue_term_endings,
        run_worker,
    )

    settings = get_settings()
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    try:
        if once:
            reminded = await enqueue_reminders(session_factory=session_factory, settings=settings)
            terms = await enqueue_term_endings(session_factory=session_factory, settings=settings)
            from app.services import webhook_delivery

            posted = await webhook_delivery.deliver_due(
                session_factory=session_factory, settings=settings
            )
            sent = await deliver_due(session_factory=session_factory, settings=settings)
            print(
                f"reminders enqueued: {reminded}; term-ending notices: {terms}; "
                f"webhooks delivered: {posted}; emails sent: {sent}"
            )
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Finish the email in hand, then stop: an interrupted send is only resent.
            loop.add_signal_handler(signum, stop.set)
        mode = "SMTP" if settings.smtp_url else "no SMTP_URL: logging emails only"
        print(f"Mail worker running ({mode}); Ctrl-C stops it.")
        sys.stdout.flush()
        await run_worker(session_factory=session_factory, settings=settings, stop=stop)
        return 0
    finally:
        await engine.dispose()


def _worker(args: argparse.Namespace) -> int:
    from app.core.logging import configure_logging

    configure_logging(get_settings(), force=True)
    return asyncio.run(_worker_async(args.once))


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def _purge_async(days: int | None) -> int:
    from datetime import timedelta

    from app.core.db import create_engine, create_session_factory
    from app.core.time import utcnow
    from app.services import webhooks
    from app.services.changes import purge as purge_changes
    from app.services.privacy import purge

    settings = get_settings()
    keep = days if days is not None else settings.purge_after_days
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            report = await purge(session=session, inactive_since=utcnow() - timedelta(days=keep))
            deliveries = await webhooks.purge(session=session)
            changes = await purge_changes(
                session=session, retention_days=settings.change_retention_days
            )
            await session.commit()
    finally:
        await engine.dispose()
    print(
        f"Anonymised after {keep} days without activity: {report.bookings} bookings, "
        f"{report.messages} messages, {report.info_package_requests} info-package requests, "
        f"{report.fund_ideas} experiment-fund applicants (rounds whose reporting ended); "
        f"deleted {report.sent_emails} sent emails, {deliveries} webhook deliveries older "
        f"than {webhooks.LOG_KEPT.days} days and {changes} change-log rows older than "
        f"{settings.change_retention_days} days."
    )
    return 0


def _purge(args: argparse.Namespace) -> int:
    return asyncio.run(_purge_async(args.days))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="settle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every Alembic migration").set_defaults(run=_migrate)
    seed_command = commands.add_parser(
        "seed", help="load the seed data (idempotent); in development also the demo"
    )
    seed_command.add_argument(
        "--no-demo",
        action="store_true",
        help="leave out the fictional demo guides and stories (never seeded in production)",
    )
    seed_command.add_argument(
        "--if-empty",
        action="store_true",
        help="load it only into a database without municipalities; always ensure the "
        "first admin (what the Docker image runs at every start)",
    )
    seed_command.set_defaults(run=_seed)
    commands.add_parser(
        "purge-demo", help="remove the demo guides (with slots and bookings) and stories"
    ).set_defaults(run=_purge_demo)
    onboard = commands.add_parser(
        "onboard", help="copy another municipality's starter kit into one (drafts, idempotent)"
    )
    onboard.add_argument("slug", help="the municipality to start")
    onboard.add_argument("--from", dest="from_municipality", default="kemijarvi")
    onboard.add_argument(
        "--parts",
        nargs="+",
        choices=[
            "cards",
            "personas",
            "promise",
            "journey",
            "landing",
            "comms-plan",
            "fund",
            "roadmap",
        ],
    )
    onboard.set_defaults(run=_onboard)
    create = commands.add_parser(
        "create-user", help="create a staff account (password from SETTLE_PASSWORD or a prompt)"
    )
    create.add_argument("email")
    create.add_argument(
        "--role",
        default="platform_admin",
        choices=["platform_admin", "municipality_admin", "editor", "comms", "guide", "juror"],
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
    serve.add_argument(
        "--no-access-log", action="store_true", help="no line per request (ACCESS_LOG=false)"
    )
    serve.set_defaults(run=_serve)
    worker = commands.add_parser(
        "worker", help="deliver queued emails and webhooks, and enqueue meeting reminders"
    )
    worker.add_argument(
        "--once", action="store_true", help="one pass, print how many were sent, then exit"
    )
    worker.set_defaults(run=_worker)
    purge = commands.add_parser(
        "purge", help="anonymise movers' data after PURGE_AFTER_DAYS without activity"
    )
    purge.add_argument("--days", type=int, help="override PURGE_AFTER_DAYS")
    purge.set_defaults(run=_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
