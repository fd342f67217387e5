"""Logging, configured in one place: `settle serve` hands `log_config()` to uvicorn (so
every worker process gets it) and `create_app` applies it when nothing else has.

Every record, the app's, uvicorn's and SQLAlchemy's alike, goes through one structlog
chain (`ProcessorFormatter`): a UTC timestamp, the level, the logger's name, the request
id of the request being served, then secrets are redacted, then it is rendered either
for a person (`LOG_FORMAT=text`, the default) or as one JSON object a line
(`LOG_FORMAT=json`) for a log shipper.

The access log is the app's own (`settle.access`, written by app/api/observe.py): one
line per request with method, path, status, duration and client, the query string
redacted. Uvicorn's access log is switched off: it would print the manage link's
`?token=` as it is.
"""

import logging
import logging.config
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from asgi_correlation_id.context import correlation_id
from structlog.typing import EventDict, Processor

from app.core.config import Settings

ACCESS_LOGGER = "settle.access"
REDACTED = "[redacted]"
# Query parameters whose values are secrets: the manage and feed links' `token`, and
# the usual names of credentials should a client put one in a URL.
SECRET_PARAMETERS = ("token", "access_token", "refresh_token", "password", "secret", "api_key")
_SECRET_QUERY = re.compile(
    r"(?i)(?<![A-Za-z0-9_])((?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&\s\"'#]*"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Keys of a log event whose value is a secret, whatever it looks like.
SECRET_KEYS = frozenset(
    {"authorization", "cookie", "set-cookie", "password", "secret", "secret_key", "token"}
)


def redact(text: str) -> str:
    """`text` with the values of secret query parameters and bearer tokens replaced."""
    if "=" in text:
        text = _SECRET_QUERY.sub(r"\1" + REDACTED, text)
    if "earer" in text:
        text = _BEARER.sub(r"\1" + REDACTED, text)
    return text


def _redact_event(_: Any, __: str, event_dict: EventDict) -> EventDict:
    for key, value in event_dict.items():
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(value, str) and ("=" in value or "earer" in value):
            event_dict[key] = redact(value)
    return event_dict


def _add_request_id(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """The id of the request this line was written for (see app/api/requestid.py)."""
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _drop_uvicorn_extras(_: Any, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)  # uvicorn's copy of the message with ANSI codes
    return event_dict


def _shorten_access_line(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """For a person: the access line's message already says method, path and status."""
    if event_dict.get("logger") == ACCESS_LOGGER:
        for key in ("method", "path", "status"):
            event_dict.pop(key, None)
    return event_dict


def _orjson(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


# What every record gets, whether it comes from the standard library or structlog.
SHARED: list[Processor] = [
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _add_request_id,
]


def build_formatter(json: bool = False, colors: bool | None = None) -> logging.Formatter:
    """The formatter of every handler: JSON lines, or aligned text for a person.

    Referenced by name from `log_config()` so uvicorn's worker processes build it too.
    """
    renderer: list[Processor]
    if json:
        renderer = [
            structlog.processors.format_exc_info,  # the traceback as one string field
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_orjson),
        ]
    else:
        renderer = [
            _shorten_access_line,
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty() if colors is None else colors,
                exception_formatter=structlog.dev.plain_traceback,
            ),
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder(), _drop_uvicorn_extras],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redact_event,
            *renderer,
        ],
    )


def log_config(settings: Settings, *, access_log: bool | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` document (also uvicorn's `log_config`)."""
    access = settings.access_log if access_log is None else access_log
    level = settings.log_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "settle": {"()": f"{__name__}.build_formatter", "json": settings.log_format == "json"}
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "settle",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # Everything reaches the root's one handler: no logger prints on its own.
            "settle": {"level": level, "handlers": [], "propagate": True},
            ACCESS_LOGGER: {"level": "INFO" if access else "WARNING", "propagate": True},
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # The app writes the access log (redacted); uvicorn's would repeat it unredacted.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # Alembic reads the migration head at startup: not news in a server's log.
            "alembic": {"level": "WARNING", "propagate": True},
            # A client's malformed X-Request-ID is replaced quietly, not a warning per request.
            "asgi_correlation_id": {"level": "ERROR", "handlers": [], "propagate": True},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers (`structlog.get_logger()`) end in the same handlers."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_logging(
    settings: Settings, *, access_log: bool | None = None, force: bool = False
) -> bool:
    """Apply `log_config()` unless the process has its logging set up already (by
    `settle serve` through uvicorn, by a test runner, or by a host that embeds the app);
    `force` applies it regardless. Returns whether it applied it."""
    if logging.getLogger().handlers and not force:
        return False
    logging.config.dictConfig(log_config(settings, access_log=access_log))
    configure_structlog()
    return True


def access_fields(scope: MutableMapping[str, Any]) -> tuple[str, str, str]:
    """Method, path with its query string (secrets redacted) and client address."""
    raw = scope.get("raw_path")
    # The path as sent (percent-encoded): a decoded %0A could forge a second text line.
    path = raw.decode("latin-1") if raw else scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    if query:
        path = f"{path}?{redact(query.decode('latin-1'))}"
    client = scope.get("client")
    return scope.get("method", ""), path, client[0] if client else "-"
