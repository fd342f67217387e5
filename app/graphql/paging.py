"""`first:`, the page size of every GraphQL connection, checked as REST checks `?limit=`."""

from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from app.core.errors import from_pydantic
from app.core.pagination import MAX_LIMIT

# The very constraint REST's `?limit=` has, so the refusal reads the same (422
# validation-failed, "Input should be greater than or equal to 1"), naming `first`.
_PAGE_SIZE: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_LIMIT)])


def page_size(first: int) -> int:
    """`first` if it is a page size REST would take; a `validation-failed` error if not
    (it used to be clamped silently, so `first: -1` read one item). Resolvers call it
    before anything else, as REST checks `?limit=` before the handler runs."""
    try:
        return _PAGE_SIZE.validate_python(first)
    except ValidationError as error:
        raise from_pydantic(error, prefix="first") from error
