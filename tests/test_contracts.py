"""The committed contracts match the code: regenerate them with `make contracts`."""

from app.contracts import render


def test_openapi_and_graphql_schema_are_up_to_date() -> None:
    stale = [
        str(path)
        for path, content in render().items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert stale == [], "run `make contracts` and commit the result"


def test_operation_ids_are_stable_names() -> None:
    import json

    from app.contracts import OPENAPI_PATH

    spec = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert "get_municipality" in ids
    assert "list_municipalities" in ids
