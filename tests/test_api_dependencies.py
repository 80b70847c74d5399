"""Every dependency and handler of every route is `async def`: FastAPI runs a plain `def`
one in its thread pool, a thread hop per request (api/deps.py)."""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute

from api.app import create_app
from infra.settings import Settings


def _api_routes(routes):
    """Every APIRoute, also those of included routers (FastAPI keeps an include's router
    as `original_router`; a version that stops doing so fails the count below, loudly)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _dependencies(dependant):
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def test_no_route_dependency_runs_in_the_thread_pool():
    app = create_app(Settings())
    routes = list(_api_routes(app.routes))
    assert len(routes) > 20  # the API's routes were all seen, not an empty list
    sync = sorted({f"{route.path}: {sub.call.__module__}.{sub.call.__qualname__}"
                   for route in routes for sub in _dependencies(route.dependant)
                   if sub.call is not None and not inspect.iscoroutinefunction(sub.call)
                   and not inspect.isasyncgenfunction(sub.call)})
    assert sync == []


def test_no_route_handler_runs_in_the_thread_pool():
    app = create_app(Settings())
    routes = list(_api_routes(app.routes))
    assert len(routes) > 20
    sync = sorted(r.path for r in routes if not inspect.iscoroutinefunction(r.endpoint))
    assert sync == []
