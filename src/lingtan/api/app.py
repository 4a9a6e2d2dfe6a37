"""The FastAPI application: API routers, dashboard pages, error shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError as PydanticValidationError

from lingtan import __version__
from lingtan.api.limits import BodyLimit, request_limit
from lingtan.api.routers import auth, energy, parks, readings
from lingtan.api.routers import carbon as carbon_router
from lingtan.api.routers import jobs as jobs_router
from lingtan.api.routers import tracing as tracing_router
from lingtan.config import Settings, get_settings
from lingtan.errors import LingtanError
from lingtan.services import jobs
from lingtan.web import carbon_page, grid_page, inputs_page
from lingtan.web import pages as web_pages


def create_app(settings: Settings | None = None, run_jobs: bool = False) -> FastAPI:
    """Build the application for the given settings (default: from the environment).

    ``run_jobs``: while the application runs (its lifespan), a worker thread runs queued jobs
    (:class:`lingtan.services.jobs.WorkerThread`), so that one ``lingtan serve`` is enough.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = jobs.WorkerThread(settings.effective_database_url) if run_jobs else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:  # in a thread: the event loop goes on while it waits
                await asyncio.to_thread(worker.stop)

    app = FastAPI(
        title="Lingtan 零碳",
        version=__version__,
        description="Energy–carbon platform for zero-carbon industrial parks.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=request_limit(app.state.settings))

    @app.exception_handler(LingtanError)
    async def lingtan_error(_: Request, exc: LingtanError) -> JSONResponse:
        return JSONResponse(
            {"code": exc.code, "message": exc.message, "details": exc.details},
            status_code=exc.http_status,
        )

    @app.exception_handler(RequestValidationError)
    async def request_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(x) for x in e["loc"]), "reason": e["msg"]} for e in exc.errors()
        ]
        message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return JSONResponse(
            {"code": "validation_error", "message": message, "details": errors}, status_code=422
        )

    @app.exception_handler(PydanticValidationError)
    async def body_error(_: Request, exc: PydanticValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(x) for x in e["loc"]), "reason": e["msg"]} for e in exc.errors()
        ]
        message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return JSONResponse(
            {"code": "validation_error", "message": message, "details": errors}, status_code=422
        )

    for router in (auth.router, parks.router, readings.router, energy.router):
        app.include_router(router)
    app.include_router(carbon_router.router)
    app.include_router(tracing_router.router)  # grid tracing
    app.include_router(jobs_router.router)  # background jobs
    app.include_router(carbon_page.router)  # carbon dashboard page
    app.include_router(inputs_page.router)  # carbon inputs dashboard page
    app.include_router(grid_page.router)  # grid tracing dashboard page
    app.include_router(web_pages.router)  # dashboard pages and /static/plotly.min.js
    app.mount("/static", web_pages.static_files(), name="static")
    return app
