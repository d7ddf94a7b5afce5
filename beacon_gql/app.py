"""The Starlette app: /graphql (HTTP, both WebSocket protocols, GraphiQL), /health, /ready,
/metrics, the dashboard, and static assets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from beacon_gql.config import Settings, load_settings
from beacon_gql.graphiql import offline_graphiql
from beacon_gql.metrics import render_metrics
from beacon_gql.schema import create_schema
from beacon_gql.schema.context import BeaconContext, bearer_token, connection_token, tokens_match
from beacon_gql.services import Services, running_services

STATIC_DIR = Path(__file__).parent / "static"


class BeaconGraphQL(GraphQL[BeaconContext, None]):
    def __init__(self, services_ref: ServicesRef, *, introspection: bool) -> None:
        super().__init__(
            create_schema(introspection=introspection), keep_alive=True, keep_alive_interval=15
        )
        self._services = services_ref
        self._graphiql_page = offline_graphiql(self.graphql_ide_html)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> BeaconContext:
        return BeaconContext(
            services=self._services.get(),
            header_token=bearer_token(request.headers.get("authorization")),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._graphiql_page)

    async def on_ws_connect(self, context: BeaconContext) -> UnsetType | dict[str, object] | None:
        read_token = context.services.settings.read_token
        if (
            read_token is not None
            and not tokens_match(connection_token(context.connection_params), read_token)
            and not (context.header_token and tokens_match(context.header_token, read_token))
        ):
            raise ConnectionRejectionError({"reason": "a valid read token is required"})
        return await super().on_ws_connect(context)


class ServicesRef:
    """The services, once the lifespan has started them."""

    def __init__(self) -> None:
        self._services: Services | None = None

    def set(self, services: Services | None) -> None:
        self._services = services

    def get(self) -> Services:
        if self._services is None:
            raise RuntimeError("the app is not started")
        return self._services


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> Starlette:
    settings = settings or load_settings()
    ref = ServicesRef()
    graphql = BeaconGraphQL(ref, introspection=settings.introspection)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with running_services(settings, run_worker=run_worker) as services:
            ref.set(services)
            app.state.services = services
            try:
                yield
            finally:
                ref.set(None)

    async def guarded_graphql(request: Request) -> Response:
        read_token = settings.read_token
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if read_token is not None and not wants_page:
            token = bearer_token(request.headers.get("authorization"))
            if not tokens_match(token, read_token):
                return JSONResponse(
                    {
                        "errors": [
                            {
                                "message": "a valid read token is required as "
                                "`Authorization: Bearer <token>`",
                                "extensions": {"code": "UNAUTHENTICATED"},
                            }
                        ]
                    },
                    status_code=401,
                )
        return await graphql.run(request)  # type: ignore[return-value]

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        services = ref.get()
        checks: dict[str, str] = {}
        try:
            async with services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        try:
            await services.hub.ping()
            checks["broadcast"] = "ok"
        except Exception as error:
            checks["broadcast"] = f"unreachable: {type(error).__name__}"
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if healthy else "not ready", "checks": checks},
            status_code=200 if healthy else 503,
        )

    async def metrics(_: Request) -> Response:
        services = ref.get()
        return PlainTextResponse(
            await render_metrics(services.sessions, services.registry),
            media_type="text/plain; version=0.0.4",
        )

    async def dashboard(_: Request) -> Response:
        return FileResponse(STATIC_DIR / "dashboard" / "index.html")

    return Starlette(
        routes=[
            Route("/graphql", guarded_graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", metrics),
            Route("/", dashboard),
            Route("/jobs/{job_id}", dashboard),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
