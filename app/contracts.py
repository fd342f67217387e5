"""The committed API contracts: OpenAPI JSON and GraphQL SDL, generated from the code."""

import json
from pathlib import Path

from app.core.config import PROJECT_ROOT, Settings
from app.main import create_app

OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"
GRAPHQL_PATH = PROJECT_ROOT / "openapi" / "schema.graphql"


def render() -> dict[Path, str]:
    """What the contract files should contain for the current code."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    openapi = json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
    sdl = app.state.graphql_schema.as_str() + "\n"
    return {OPENAPI_PATH: openapi, GRAPHQL_PATH: sdl}


def write() -> list[Path]:
    written = []
    for path, content in render().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
