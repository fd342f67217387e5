"""The GraphQL executor: root fields one at a time, and finished card subtrees memoised.

Root fields. graphql-core resolves a query's top-level fields concurrently, but they
share the request's database session, which must not be used by two coroutines at once.
Nested fields are plain attributes or batched DataLoaders, so only the root needs
ordering. This is done here rather than in a schema extension's `resolve` hook: such a
hook becomes graphql-core middleware around *every* field, and a page of 20 cards with
their entries has ~2 500 fields, each of which would pay for the wrapper.

Memoised subtrees. graphql-core spends ~4 µs on each field it completes, so that page
costs ~10 ms of execution however lean the database reads are. Yet after a write, 19 of
its 20 cards are exactly what they were. A type may opt in by giving its objects a
`memo_digest()` (a digest of *all* the data its subtree is computed from); the executor
then keeps the completed subtree of such an object, keyed by that digest, the selection
(the field nodes of the parsed query, which `ParserCache` keeps the same object for the
same query text) and the operation's variables. This is only sound if every field below
is a pure function of the object, so it is allowed only for types whose whole subtree
consists of plain attributes and direct resolvers (`app.graphql.direct`): no `info`, no
viewer, no database. `memoisable_types` checks that when the schema is built, and a
subtree that produced an error is never kept.
"""

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from app.graphql.direct import BACKREF, is_direct

MEMO_SIZE = 1024  # card subtrees kept per process; ~18 kB each measured (8 entries): ~18 MB


class SubtreeMemo:
    """A bounded LRU of completed subtrees; the field nodes are kept with each entry so
    their `id()`s, part of the key, cannot be reused by other nodes while it lives."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self.hits = 0  # for tests and diagnostics
        self._entries: OrderedDict[Hashable, tuple[Any, tuple[Any, ...]]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Hashable, value: Any, nodes: tuple[Any, ...]) -> None:
        self._entries[key] = (value, nodes)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


MEMO = SubtreeMemo()


def _named(type_: GraphQLType) -> GraphQLType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _pure_field(field: GraphQLField) -> bool:
    """A plain attribute (Strawberry's basic field: no resolver, no extensions, so no
    permission classes) or a direct resolver (a method of the object and its arguments)."""
    definition = field.extensions.get(BACKREF)
    basic = isinstance(definition, StrawberryField) and definition.is_basic_field
    return basic or is_direct(field)


def memoisable_types(schema: GraphQLSchema, candidates: Iterable[str]) -> frozenset[str]:
    """Those of `candidates` whose every field, all the way down, is pure."""
    verdicts: dict[str, bool] = {}

    def pure(type_: GraphQLObjectType) -> bool:
        if type_.name in verdicts:
            return verdicts[type_.name]
        verdicts[type_.name] = True  # a cycle back to a type being checked is no objection
        result = True
        for field in type_.fields.values():
            named = _named(field.type)
            if not _pure_field(field) or (isinstance(named, GraphQLObjectType) and not pure(named)):
                result = False
                break
        verdicts[type_.name] = result
        return result

    found = []
    for name in candidates:
        type_ = schema.type_map.get(name)
        if not isinstance(type_, GraphQLObjectType):
            raise ValueError(f"{name} is not an object type of the schema")
        if not pure(type_):
            raise ValueError(
                f"{name}'s subtree has fields that are not pure; it cannot be memoised"
            )
        found.append(name)
    return frozenset(found)


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with serial root fields and memoised pure subtrees."""

    memo_types: frozenset[str] = frozenset()
    memo: SubtreeMemo = MEMO

    def execute_operation(self, serially: bool | None = None) -> Any:
        return super().execute_operation(True if serially is None else serially)

    def _variables_key(self) -> Hashable | None:
        try:
            key = tuple(sorted(self.variable_values.coerced.items()))
            hash(key)
        except TypeError:
            return None  # a list or input object among the variables: no memo
        return key

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if return_type.name not in self.memo_types or position_context is not None:
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        variables = self._variables_key()
        if variables is None or any(d.fragment_variable_values for d in field_details_list):
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        nodes = tuple(d.node for d in field_details_list)
        key = (return_type.name, result.memo_digest(), tuple(map(id, nodes)), variables)
        found = self.memo.get(key)
        if found is not None:
            return found
        errors = len(self.collected_errors.errors)
        value = super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )
        if not self.is_awaitable(value) and len(self.collected_errors.errors) == errors:
            self.memo.put(key, value, nodes)
        return value
