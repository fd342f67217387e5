"""RFC 9457 problem responses for every error the API can give."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.api import requestid
from app.core.errors import DomainError, problem_type
from app.core.i18n import LANGUAGES
from app.core.jsonenc import dumps

log = logging.getLogger("settle.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Invalid input"),
    428: ("precondition-required", "Precondition required"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return Response(
        content=dumps(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_from_error(error: DomainError, instance: str | None = None) -> Response:
    return problem_response(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        instance=instance,
        errors=[problem.as_dict() for problem in error.errors]
        if error.errors
        else ([] if error.status == 422 else None),
        headers=error.headers or None,
        extra=error.extra or None,
    )


def _field_path(location: tuple[Any, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


TRANSLATION_CLASSES = {"I18nText", "I18nLongText", "Translations"}


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as `{field, message, code}`; a plain string where translations
    are expected reads as such, not as pydantic's internal wording."""
    problems = []
    for error in exc.errors():
        location = tuple(error.get("loc", ()))
        code = str(error.get("type", "invalid"))
        message = str(error.get("msg", "invalid value"))
        if code == "model_type" and error.get("ctx", {}).get("class_name") in TRANSLATION_CLASSES:
            message = 'expected translations like {"fi": "...", "en": "..."}, not a plain value'
        problems.append({"field": _field_path(location), "message": message, "code": code})
    return problems


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return problem_from_error(exc, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        if any(e["field"] == "query.lang" for e in errors):
            return problem_response(
                status=422,
                code="unsupported-language",
                title="Unsupported language",
                detail=f"Supported languages: {', '.join(LANGUAGES)}.",
                instance=request.url.path,
                errors=errors,
                extra={"supported": list(LANGUAGES)},
            )
        return problem_response(
            status=422,
            code="validation-failed",
            title="Invalid input",
            detail="Some fields are invalid; see `errors`.",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(
            status=exc.status_code,
            code=code,
            title=title,
            detail=detail,
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> Response:
        text = str(exc.orig).lower() if exc.orig is not None else ""
        if "database is locked" in text or "deadlock" in text or "could not serialize" in text:
            # SQLite's single writer (development) or a PostgreSQL deadlock victim:
            # nothing was changed, and the same request will very likely succeed again.
            return problem_response(
                status=503,
                code="busy",
                title="Busy",
                detail="The database was busy and nothing was changed; please retry.",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette answers a 500 from outside every middleware, the request id's too:
        # the id goes on here, so that the person reporting it can quote it.
        request_id = requestid.current()
        return problem_response(
            status=500,
            code="internal-error",
            title="Internal server error",
            detail="Something went wrong on our side. It has been logged.",
            instance=request.url.path,
            headers={requestid.HEADER: request_id} if request_id else None,
        )
