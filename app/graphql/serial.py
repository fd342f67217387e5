"""Root fields of one operation run one after another.

graphql-core resolves a query's top-level fields concurrently, but they share the
request's database session, which must not be used by two coroutines at once. Nested
fields are plain attributes or batched DataLoaders, so only the root needs ordering.

This is done in the executor rather than in a schema extension's `resolve` hook: such a
hook becomes graphql-core middleware around *every* field, and a page of 20 cards with
their entries has ~2 500 fields, each of which would pay for the wrapper.
"""

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SerialRootExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a query's root fields serially, as the spec already does for mutations."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        return super().execute_operation(True if serially is None else serially)
