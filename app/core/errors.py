"""Domain errors. Services raise these; REST turns them into RFC 9457 problems and
GraphQL into errors with `extensions.code`, so both front doors say the same thing."""

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field: where it is (`body.name.fi`) and what is wrong."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class DomainError(Exception):
    """Base of every expected failure. `code` is the stable problem type slug."""

    detail: str
    code: str = ""
    errors: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __post_init__(self) -> None:
        if not self.code:
            self.code = self.default_code
        super().__init__(self.detail)

    @property
    def type(self) -> str:
        return problem_type(self.code)


def problem_type(code: str) -> str:
    """The RFC 9457 `type` for a code: a stable relative URI."""
    return f"/problems/{code}"


class NotFound(DomainError):
    status = 404
    default_code = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    default_code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    default_code = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    default_code = "precondition-required"
    title = "Precondition required"


class ValidationFailed(DomainError):
    status = 422
    default_code = "validation-failed"
    title = "Invalid input"


class Gone(DomainError):
    status = 410
    default_code = "sync-expired"
    title = "No longer available"


class RateLimited(DomainError):
    status = 429
    default_code = "rate-limited"
    title = "Too many requests"


# Every problem code the API can answer with, for the README and the tests.
PROBLEM_CODES: dict[str, str] = {
    "bad-request": "The request could not be understood.",
    "not-found": "No such resource, or it is not visible to you.",
    "method-not-allowed": "The path exists but not with this HTTP method.",
    "unauthorized": "A valid bearer token is required.",
    "invalid-token": "The bearer token is expired, tampered with or not for this API.",
    "invalid-credentials": "Wrong email or password, or the account is disabled.",
    "forbidden": "You are signed in but your role does not allow this.",
    "conflict": "The request conflicts with the current state.",
    "duplicate": "A resource with this unique value already exists.",
    "precondition-failed": "If-Match does not match the current ETag: reload and retry.",
    "precondition-required": "This update needs an If-Match header with the ETag you read.",
    "validation-failed": "Some fields are invalid; see `errors`.",
    "query-too-complex": "The GraphQL query is over a size or cost limit; `limit` says which.",
    "plan-approved": "An approved communication plan is read-only; start a new version from it.",
    "plan-submitted": "The plan is with the municipal board; it changes once returned.",
    "plan-version-open": "Another version of this plan year is still unfinished.",
    "import-rejected": "The import file was rejected whole; see `errors` for every bad row.",
    "unsupported-language": "The requested language is not supported; see `supported`.",
    "invalid-cursor": "The pagination cursor is not one this API issued.",
    "sync-expired": "`modified_since` or the feed cursor is older than the change log keeps "
    "(`CHANGE_RETENTION_DAYS`); read the collection in full and sync from there.",
    "rate-limited": "Too many requests; retry after `Retry-After` seconds.",
    "payload-too-large": "The request body is larger than this API accepts.",
    "unsupported-media-type": "The request body is not in a format this API accepts.",
    "slot-taken": "Someone booked this time just before you; pick another slot.",
    "slot-unavailable": "The slot has started or its host is no longer available.",
    "slot-overlap": "The slot overlaps another slot of the same host.",
    "expertise-in-use": "A guide still carries this expertise; change the guide first.",
    "slot-booked": "The slot has an active booking; decline or cancel it first.",
    "idempotency-key-reused": "This Idempotency-Key was used for a different request.",
    "invalid-transition": "The resource is not in a state that allows this step.",
    "erased": "The person's data has been erased; nothing can be sent to them.",
    "round-not-open": "The fund round does not take ideas now; see its dates.",
    "round-locked": "The fund round's rules (or those dates) are fixed now; they cannot change.",
    "over-budget": "The decision's grants add up to more than the round's budget.",
    "funded-count": "The decision funds fewer or more experiments than the round allows.",
    "grant-range": "A grant is outside the round's smallest-to-largest grant range.",
    "unknown-idea": "The decision names an idea that is not in this round.",
    "explanation-required": "An idea left unfunded needs an explanation for its submitter.",
    "internal-error": "Something went wrong on our side; nothing about it is shown.",
    "unavailable": "Not ready: the database is unreachable or not migrated.",
    "busy": "The database was busy and nothing was changed; retry after `Retry-After`.",
}


def from_pydantic(error: Any, prefix: str = "body") -> ValidationFailed:
    """A pydantic ValidationError as the same 422 problem REST gives (for GraphQL input)."""
    problems = []
    for item in error.errors():
        path = prefix
        for part in item.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        problems.append(FieldProblem(path, str(item.get("msg")), str(item.get("type"))))
    return ValidationFailed("Some fields are invalid; see `errors`.", errors=problems)
