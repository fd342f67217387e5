"""GraphQL errors carry the same problem codes as REST in `extensions.code`.

Every error of every result is rewritten once the operation is over, in `Schema.execute`
rather than in an extension's `on_operation`: an error raised by a hook (a syntax error
from the parser cache, a refusal of the limits, a RecursionError deep in execution) leaves
the operation hooks by an exception, and an extension would never see the result it
ends in; the leaked text was "maximum recursion depth exceeded".

Internal exception text is never shown: an error is a client's when it is a domain
error (`NotFound`, `Unauthorized`, `ValidationFailed`...), or graphql-core's own words
about the request (syntax, validation, variables, found before anything ran); anything
else is `internal-error`, logged with its traceback. Client errors are logged as one line.
"""

import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from app.core.errors import DomainError

log = logging.getLogger("settle.graphql")

INTERNAL_MESSAGE = "Something went wrong on our side. It has been logged."


def classify(error: GraphQLError) -> tuple[str, dict[str, Any], bool]:
    """The message a client may see, the extensions to add, and whether it is internal."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, Any] = {"code": original.code, "status": original.status}
        if original.errors:
            extensions["errors"] = [problem.as_dict() for problem in original.errors]
        extensions.update(original.extra)
        return original.detail, extensions, False
    if (
        original is None
        or isinstance(original, GraphQLError)
        or (error.path is None and error.nodes)
    ):
        # Syntax, validation and depth-limit errors, and values a scalar refused (with the
        # nodes of the request they are about): found before anything ran, the request
        # is wrong, and graphql-core's message says how.
        return error.message, {"code": "bad-request", "status": 400}, False
    return INTERNAL_MESSAGE, {"code": "internal-error", "status": 500}, True


def with_code(error: GraphQLError) -> GraphQLError:
    message, extensions, _ = classify(error)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **extensions},
    )


def refusal_status(errors: Iterable[GraphQLError]) -> int | None:
    """The HTTP status of a request refused whole by our own checks before it ran (a
    domain error without a path: resolvers' errors always have one), else None."""
    for error in errors:
        if isinstance(error.original_error, DomainError) and error.path is None:
            return error.original_error.status
    return None


class Schema(strawberry.Schema):
    """Strawberry's schema, answering with problem codes and logging as REST does."""

    async def execute(  # noqa: PLR0913, PLR0917 - Strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        result = await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed_operation_types,
            operation_extensions=operation_extensions,
        )
        if result.errors:
            status = refusal_status(result.errors)
            response = getattr(context_value, "response", None)
            if status is not None and response is not None:
                response.status_code = status
            result.errors = [with_code(error) for error in result.errors]
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            message, extensions, internal = classify(error)
            where = ".".join(map(str, error.path)) if error.path else "request"
            if internal:
                log.error("unhandled GraphQL error at %s", where, exc_info=error.original_error)
            else:
                log.info("GraphQL %s at %s: %s", extensions["code"], where, message)
