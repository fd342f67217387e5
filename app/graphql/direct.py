"""Direct resolvers for the simplest resolver fields: `title(lang: EN)` and the like.

Strawberry resolves a field that has a resolver through a general wrapper: an `Info`
object, argument conversion, field extensions, permission classes. A page of 20 cards in
the API's own example query asks ~1 000 such fields (every `name(lang:)`, `label(lang:)`,
`price(lang:)`…), and the wrapper cost more than the resolvers themselves: ~5 ms of a
cold 20-card read. Where a field's resolver is a plain synchronous method taking only
enum or scalar arguments, that wrapper adds nothing: graphql-core has already coerced
the arguments (Strawberry's enum types coerce to the Python enum), so the method can be
called straight away. Any other field (async, `info`, permission classes, extensions,
input objects) keeps Strawberry's resolver.
"""

import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

BACKREF = "strawberry-definition"
SCALARS = (str, int, float, bool)


def _simple_argument(argument: Any) -> bool:
    kind = argument.type
    return isinstance(kind, StrawberryEnumDefinition) or kind in SCALARS


def _direct(field: StrawberryField, graphql_field: GraphQLField) -> Callable[..., Any] | None:
    """A graphql-core resolver calling the field's method directly, or None if unsafe."""
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or field.permission_classes or field.extensions:
        return None
    parameters = list(resolver.signature.parameters.values())
    if not parameters or parameters[0].name != "self":
        return None  # needs root, info or parent: leave it to Strawberry
    arguments = field.arguments
    if [p.name for p in parameters[1:]] != [a.python_name for a in arguments]:
        return None
    if not all(_simple_argument(a) for a in arguments):
        return None
    if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters):
        return None
    method: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    if inspect.iscoroutinefunction(method):
        return None
    names = {
        graphql_name: argument.extensions[BACKREF].python_name
        for graphql_name, argument in graphql_field.args.items()
    }

    def resolve(source: Any, _info: Any, **kwargs: Any) -> Any:
        return method(source, **{names[key]: value for key, value in kwargs.items()})

    resolve._direct = True  # type: ignore[attr-defined]
    return resolve


def is_direct(field: GraphQLField) -> bool:
    """Whether `install` gave this field a direct resolver."""
    return getattr(field.resolve, "_direct", False) is True


def install(schema: strawberry.Schema, *, skip: set[str]) -> list[str]:
    """Give every simple resolver field of the schema's object types (but `skip`, the
    root types) a direct resolver; returns the `Type.field` names it changed."""
    changed = []
    for name, graphql_type in schema._schema.type_map.items():
        if name in skip or not isinstance(graphql_type, GraphQLObjectType):
            continue
        if not isinstance(graphql_type.extensions.get(BACKREF), StrawberryObjectDefinition):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            field = graphql_field.extensions.get(BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            direct = _direct(field, graphql_field)
            if direct is not None:
                graphql_field.resolve = direct
                changed.append(f"{name}.{field_name}")
    return changed
