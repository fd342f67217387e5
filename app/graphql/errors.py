"""GraphQL errors carry the same problem codes as REST in `extensions.code`."""

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from app.core.errors import DomainError

log = logging.getLogger("settle.graphql")


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {"code": original.code, "status": original.status}
        if original.errors:
            extensions["errors"] = [problem.as_dict() for problem in original.errors]
        message = original.detail
    elif original is None or isinstance(original, GraphQLError) or error.path is None:
        # Syntax, validation and depth-limit errors, and variables that do not fit their
        # types (found before anything runs, so without a path): the request is wrong.
        extensions = {"code": "bad-request", "status": 400}
        message = error.message
    else:
        log.error("unhandled GraphQL error", exc_info=original)
        extensions = {"code": "internal-error", "status": 500}
        message = "Something went wrong on our side. It has been logged."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **extensions},
    )


class ProblemCodes(SchemaExtension):
    """Rewrite every error at the end of the operation; internals are never shown."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_with_code(error) for error in errors]
