"""What a GraphQL document may cost, checked before graphql-core's own validation runs.

A GraphQL request is a small text that can ask for an enormous amount of work, and
several of graphql-core's steps are far from linear in it. A 1 KB "fragment bomb"
(`fragment F0 on Query {...F1 ...F1}`, `F1` spreading `F2` twice, and so on 30 times)
expands to 2^30 fields: graphql-core's OverlappingFieldsCanBeMergedRule, the depth
limiter and the executor's field collection all walk that expansion, and the worker hung
for minutes, deaf to /healthz and SIGTERM. Aliases multiply resolvers (500 `serviceCards`
aliases ran 500 SQL queries), and 100 000 `__typename` aliases took seconds to parse,
validate and answer.

So every request passes, in this order, before any standard validation rule or resolver:

1. at most `max_length` characters, checked before parsing, and then graphql-core's
   own parser limit of `max_tokens` lexical tokens: parsing stops at the first one over.
   Nesting deeper than the parser allows (200 levels) is refused the same way.
2. one walk over the parsed document that counts, with every fragment spread expanded,
   the fields, aliases and directives, and an estimated cost: a field costs 1, plus its
   selection's cost times its page size (`first`, or the argument's default when not
   given). Each fragment is summed once and reused wherever it is spread, so the walk is
   linear in the document however large its expansion, and it stops at the first
   fragment over a limit.

Whatever passes is small enough for the rest (graphql-core's validation rules, the depth
limiter, execution) to take milliseconds. Refusals are `query-too-complex` problems
(HTTP 400) naming the limit; the same walk refuses the NUL character in string arguments
(`validation-failed`, 422, as REST does), which PostgreSQL cannot store.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    value_from_ast_untyped,
)
from graphql.error import GraphQLSyntaxError
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import ParserCache, ValidationCache

from app.core.config import Settings
from app.core.errors import DomainError, FieldProblem, ValidationFailed
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

NUL = "\x00"
PAGE_ARGUMENT = "first"
PARSING_ABORTED = "Parsing aborted."  # how graphql-core ends its parser-limit errors


class QueryTooComplex(DomainError):
    """The document is over one of the limits; nothing of it has run."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "query-too-complex"
    title: ClassVar[str] = "Query too complex"


@dataclass(frozen=True)
class Limits:
    """The limits of one schema; `Settings` documents each (GRAPHQL_MAX_*)."""

    max_length: int
    max_tokens: int
    max_fields: int
    max_aliases: int
    max_directives: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            max_length=settings.graphql_max_query_length,
            max_tokens=settings.graphql_max_tokens,
            max_fields=settings.graphql_max_fields,
            max_aliases=settings.graphql_max_aliases,
            max_directives=settings.graphql_max_directives,
            max_cost=settings.graphql_max_cost,
        )


@dataclass
class Tally:
    """What a selection set amounts to once every fragment in it is expanded."""

    fields: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0

    def add(self, other: "Tally") -> None:
        self.fields += other.fields
        self.aliases += other.aliases
        self.directives += other.directives
        self.cost += other.cost


def _named(type_: Any) -> GraphQLType | None:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_ if isinstance(type_, GraphQLType) else None


class Measure:
    """One walk of a document (see the module docstring); `over()` names a limit."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        self.operations = [
            node for node in document.definitions if isinstance(node, OperationDefinitionNode)
        ]
        self.sent = dict(variables or {})
        # For page sizes: variables not sent take their default, as they will when run.
        self.variables = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for operation in self.operations
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        } | self.sent
        self.summaries: dict[str, Tally] = {}
        self.nul: list[FieldProblem] = []

    def run(self) -> QueryTooComplex | ValidationFailed | None:
        """The first refusal, or None: the document may go on to validation."""
        for name in self._fragment_order():
            fragment = self.fragments[name]
            tally = self._selection_set(fragment.selection_set, self._type(fragment))
            self.summaries[name] = tally
            if refusal := self.over(tally):
                return refusal
        total = Tally()
        for operation in self.operations:
            total.directives += len(operation.directives or ())
            for definition in operation.variable_definitions or ():
                total.directives += len(definition.directives or ())
                if definition.default_value is not None:
                    self._find_nul(definition.default_value, f"${definition.variable.name.value}")
            root = self.schema.get_root_type(operation.operation)
            total.add(self._selection_set(operation.selection_set, root))
        if refusal := self.over(total):
            return refusal
        self._find_nul_in_variables()
        if self.nul:
            return ValidationFailed(
                "Text may not contain the NUL character (U+0000); see `errors`.", errors=self.nul
            )
        return None

    def over(self, tally: Tally) -> QueryTooComplex | None:
        limits = self.limits
        for what, count, limit in (
            ("fields", tally.fields, limits.max_fields),
            ("aliases", tally.aliases, limits.max_aliases),
            ("directives", tally.directives, limits.max_directives),
        ):
            if count > limit:
                return QueryTooComplex(
                    f"The query has more than {limit} {what} (fragments expanded); "
                    "ask for less at a time.",
                    extra={"limit": what, "max": limit},
                )
        if tally.cost > limits.max_cost:
            return QueryTooComplex(
                f"The query's estimated cost is over {limits.max_cost} (each field counts "
                "once per item of the pages it is in); ask for smaller pages or fewer fields.",
                extra={"limit": "cost", "max": limits.max_cost},
            )
        return None

    def _fragment_order(self) -> Iterator[str]:
        """Fragment names, each after every fragment it spreads (cycles broken: the
        NoFragmentCycles rule refuses them later); iterative, for long chains."""
        done: set[str] = set()
        for start in self.fragments:
            if start in done:
                continue
            done.add(start)
            stack = [(start, iter(self._spreads(self.fragments[start].selection_set)))]
            while stack:
                name, pending = stack[-1]
                for spread in pending:
                    if spread in self.fragments and spread not in done:
                        done.add(spread)
                        stack.append(
                            (spread, iter(self._spreads(self.fragments[spread].selection_set)))
                        )
                        break
                else:
                    stack.pop()
                    yield name

    def _spreads(self, selection_set: SelectionSetNode) -> Iterator[str]:
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                yield from self._spreads(selection.selection_set)

    def _type(self, node: FragmentDefinitionNode | InlineFragmentNode) -> GraphQLType | None:
        condition = node.type_condition
        return self.schema.get_type(condition.name.value) if condition is not None else None

    def _selection_set(self, selection_set: SelectionSetNode, parent: Any) -> Tally:
        # Plain counters, and a leaf field costs no lookup: this runs on every request
        # (the card page's 29 fields: ~40 µs).
        fields = aliases = directives = cost = 0
        for selection in selection_set.selections:
            if selection.directives:
                directives += len(selection.directives)
            inner: Tally | None = None
            if isinstance(selection, FieldNode):
                fields += 1
                cost += 1
                if selection.alias is not None:
                    aliases += 1
                for argument in selection.arguments or ():
                    self._find_nul(argument.value, argument.name.value)
                if selection.selection_set is not None:
                    definition = self._definition(selection.name.value, parent)
                    child_type = _named(definition.type) if definition is not None else None
                    inner = self._selection_set(selection.selection_set, child_type)
                    inner.cost *= self._page_size(selection, definition)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type(selection) if selection.type_condition else parent
                inner = self._selection_set(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                # Not yet summed only when unknown or in a cycle: validation refuses both.
                inner = self.summaries.get(selection.name.value)
            if inner is not None:
                fields += inner.fields
                aliases += inner.aliases
                directives += inner.directives
                cost += inner.cost
        return Tally(fields, aliases, directives, cost)

    def _definition(self, name: str, parent: Any) -> GraphQLField | None:
        if name == "__schema" and parent is self.schema.query_type:
            return SchemaMetaFieldDef
        if name == "__type" and parent is self.schema.query_type:
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def _page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many items a page of this field holds; 1 if it is not paged. Out-of-range
        values count as the nearest allowed one: the resolver refuses them, as REST does."""
        if definition is None or PAGE_ARGUMENT not in definition.args:
            return 1
        size: Any = definition.args[PAGE_ARGUMENT].default_value
        argument = _argument(node.arguments, PAGE_ARGUMENT)
        if isinstance(argument, IntValueNode):
            size = int(argument.value)
        elif isinstance(argument, VariableNode):
            size = self.variables.get(argument.name.value, size)
        if not isinstance(size, int) or isinstance(size, bool):
            return DEFAULT_LIMIT
        return max(1, min(int(size), MAX_LIMIT))

    def _find_nul(self, value: ValueNode, where: str) -> None:
        stack: list[tuple[ValueNode, str]] = [(value, where)]
        while stack:
            node, path = stack.pop()
            if isinstance(node, StringValueNode):
                if NUL in node.value:
                    self.nul.append(FieldProblem(path, "contains U+0000", "invalid-character"))
            elif isinstance(node, ListValueNode):
                stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.values))
            elif isinstance(node, ObjectValueNode):
                stack.extend((item.value, f"{path}.{item.name.value}") for item in node.fields)

    def _find_nul_in_variables(self) -> None:
        """Variables sent as JSON; the body's own NUL check (TextGuard) sees POST bodies,
        this one also GET's `?variables=`. Iterative: JSON may nest 1 000 levels."""
        stack: list[tuple[Any, str]] = [(self.sent, "variables")]
        while stack:
            value, path = stack.pop()
            if isinstance(value, str):
                if NUL in value:
                    self.nul.append(FieldProblem(path, "contains U+0000", "invalid-character"))
            elif isinstance(value, dict):
                for key, item in value.items():
                    if NUL in str(key):
                        self.nul.append(FieldProblem(path, "contains U+0000", "invalid-character"))
                    else:
                        stack.append((item, f"{path}.{key}"))
            elif isinstance(value, list):
                stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))


def _argument(arguments: tuple[ArgumentNode, ...] | None, name: str) -> ValueNode | None:
    for argument in arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> GraphQLError | None:
    """The refusal of this document with these variables, as a GraphQL error, or None."""
    refusal = Measure(schema, document, variables, limits).run()
    if refusal is None:
        return None
    return GraphQLError(refusal.detail, original_error=refusal)


class LimitedParser(ParserCache):
    """Strawberry's parser cache, parsing within the limits' parser options; a document
    over them is refused as too complex rather than as a syntax error."""

    def __init__(self, limits: Limits, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        if len(query) > self.limits.max_length:
            # Before the parser, which would also refuse it but first find the line and
            # column of the limit in the text: 15 ms for a 1.8 MB query.
            raise QueryTooComplex(
                f"The query is longer than {self.limits.max_length} characters.",
                extra={"limit": "length", "max": self.limits.max_length},
            )
        try:
            context.graphql_document = self.cached_parse_document(
                query, max_lexical_tokens=self.limits.max_tokens
            )
        except GraphQLSyntaxError as error:
            if not error.message.endswith(PARSING_ABORTED):
                raise
            detail = error.message.removeprefix("Syntax Error: ")
            limit = "tokens" if "tokens" in detail else "nesting"
            extra: dict[str, Any] = {"limit": limit}
            if limit == "tokens":
                extra["max"] = self.limits.max_tokens
            # Raised from a hook, it ends the operation; `Schema.execute` answers it.
            raise QueryTooComplex(detail, extra=extra) from None
        yield


class LimitedValidation(ValidationCache):
    """Strawberry's validation cache, behind the limits: a document over them never
    reaches graphql-core's rules, some of which are exponential in fragment spreads.

    The limits are checked on every request, not cached with the validation: page sizes
    may come from variables. The walk costs ~40 µs for the API's own card-page query."""

    def __init__(self, limits: Limits, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # noqa: S101 - parsed before validation
        refusal = check(
            context.schema._schema, context.graphql_document, context.variables, self.limits
        )
        if refusal is None:
            yield from super().on_validate()
            return
        context.pre_execution_errors = [refusal]
        yield
