"""Count, time and log every request: one pure ASGI middleware outside all the others.

Outside the FastLane on purpose: most public reads are answered there, before routing,
and a route-level instrumentation would never see them. The route template a request
is counted under comes from the route FastAPI chose; when nothing routed it (a FastLane
answer, a refusal by an outer middleware) the path is matched against the app's route
templates, remembered per path for the cached paths that come back again and again.
A path no route matches is counted as `unmatched`: labels stay bounded however many
paths scanners try.
"""

import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import BaseRoute, Router, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.logging import ACCESS_LOGGER, access_fields

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MEMO_SIZE = 4096

access_log = logging.getLogger(ACCESS_LOGGER)


def _flat(routes: Iterable[BaseRoute]) -> Iterator[tuple[Any, str]]:
    """(route object as routing sets `scope["route"]`, full path template) for each route."""
    try:
        # FastAPI ≥ 0.16x keeps included routers as branches: their routes carry the
        # path inside the router, the full template is in the route's context.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copied included routes with their full paths
        for route in routes:
            path = getattr(route, "path", None)
            if path:
                yield route, path
        return
    for context in iter_route_contexts(list(routes)):
        path = context.path_format or context.path
        if path:
            yield context.original_route, path


class RouteTemplates:
    """Route template of a request, for metric labels."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._by_route: dict[int, str] = {}
        self._patterns: list[tuple[re.Pattern[str], str, frozenset[str] | None]] = []
        self._memo: dict[str, str] = {}
        self._size = -1

    def _refresh(self) -> None:
        if len(self.router.routes) == self._size:
            return
        by_route: dict[int, str] = {}
        patterns = []
        for route, path in _flat(self.router.routes):
            by_route.setdefault(id(route), path)
            methods = getattr(route, "methods", None)
            patterns.append((compile_path(path)[0], path, frozenset(methods) if methods else None))
        self._by_route, self._patterns, self._memo = by_route, patterns, {}
        self._size = len(self.router.routes)

    def of(self, scope: Scope) -> str:
        self._refresh()
        route = scope.get("route")
        if route is not None:
            template = self._by_route.get(id(route))
            if template is not None:
                return template
        path: str = scope["path"]
        template = self._memo.get(path)
        if template is not None:
            return template
        template = self._match(path, scope.get("method"))
        if template != UNMATCHED:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[path] = template
        return template

    def _match(self, path: str, method: str | None) -> str:
        partial = None
        for pattern, template, methods in self._patterns:
            if pattern.match(path):
                if methods is None or method in methods:
                    return template
                partial = partial or template
        return partial or UNMATCHED


class Observe:
    """Request metrics and the access log. Wraps everything but the request id."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.templates = RouteTemplates(router)
        # (method, route, status) → its counter and histogram: `labels()` takes a lock
        # and builds a key on every call; the set is bounded like the labels are.
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            status = status or 500  # Starlette's outer error middleware answers it
            raise
        finally:
            elapsed = time.perf_counter() - start
            self._record(scope, status or 499, elapsed)  # 499: gone before an answer

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = self.templates.of(scope)
        key = (method, route, str(status))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                metrics.REQUESTS.labels(*key),
                metrics.LATENCY.labels(*key),
            )
        series[0].inc()
        series[1].observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            _, path, client = access_fields(scope)
            duration_ms = round(elapsed * 1000, 2)
            access_log.info(
                "%s %s %s",
                scope["method"],
                path,
                status,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "client": client,
                },
            )
