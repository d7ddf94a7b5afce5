"""The Starlette app: /graphql (HTTP, both WebSocket protocols, GraphiQL), /health, /ready,
/metrics, the dashboard, and static assets."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
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
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types.unset import UnsetType

from beacon_gql.config import Settings, load_settings
from beacon_gql.jobs.response_cache import request_key
from beacon_gql.jobs.strict_json import UnacceptableJSON, strict_json_loads
from beacon_gql.schema import create_schema
from beacon_gql.schema.context import BeaconContext, bearer_token, connection_token, tokens_match
from beacon_gql.services import Services, running_services
from beacon_gql.web import persisted_queries
from beacon_gql.web.auth import (
    METRICS_TOKEN_REQUIRED,
    READ_TOKEN_REQUIRED,
    grants_metrics,
    grants_read,
    only_asks_for_the_page,
    refusal_body,
    request_token,
)
from beacon_gql.web.fanout import ProgressFanout
from beacon_gql.web.graphiql import offline_graphiql
from beacon_gql.web.graphql_view import (
    SUBSCRIPTION_PROTOCOLS,
    ConformantGraphQL,
    response_media_type,
)
from beacon_gql.web.limits import (
    GRAPHQL_REQUEST_MEDIA_TYPES,
    BodySizeLimit,
    error_body,
    media_type,
    unsupported_media_type,
)
from beacon_gql.web.metrics import RequestMetrics, render_metrics
from beacon_gql.web.receipt_keys import KEYS_PATH, published_keys

STATIC_DIR = Path(__file__).parent / "static"

# extensions.code of a request refused before GraphQL runs it, by HTTP status.
HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
# RFC 9110: a 401 says which scheme it wants.
WWW_AUTHENTICATE = 'Bearer realm="beacon_gql"'


class _RequestAdapter(StarletteRequestAdapter):
    @property
    def content_type(self) -> str | None:
        # strawberry parses only bodies whose type contains `application/json`, compared
        # case-sensitively; `guarded_graphql` has already accepted the type (in any case, or
        # application/graphql-response+json), so strawberry is told the plain spelling.
        content_type = super().content_type
        if media_type(content_type) in GRAPHQL_REQUEST_MEDIA_TYPES:
            return "application/json"
        return content_type

    @property
    def starlette_request(self) -> Request:
        return self._request


class BeaconGraphQL(ConformantGraphQL):
    request_adapter_class = _RequestAdapter

    def __init__(
        self, *, introspection: bool, allowed_origins: frozenset[str], max_batch: int = 0
    ) -> None:
        # strawberry refuses WebSocket handshakes from browser pages of other origins (a page
        # on any site could otherwise read every job's progress); programs send no Origin.
        super().__init__(
            create_schema(introspection=introspection, max_batch=max_batch),
            keep_alive=True,
            keep_alive_interval=15,
            allowed_origins=sorted(allowed_origins),
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
        )
        self._graphiql_page = offline_graphiql(self.graphql_ide_html)
        # jobProgress events over WebSockets, rendered once per distinct operation.
        assert isinstance(self.schema, strawberry.Schema)
        self.fanout = ProgressFanout(self.schema)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> BeaconContext:
        context = BeaconContext(
            services=services_of(request),
            header_token=bearer_token(request.headers.get("authorization")),
            # Per-address limits (repeated signature failures) key on this. Behind a reverse
            # proxy it is the proxy's address unless uvicorn trusts its X-Forwarded-For.
            client_host=request.client.host if request.client is not None else "unknown",
        )
        # `guarded_graphql` reads the ledger back once the answer is built.
        request.state.beacon_context = context
        return context

    def encode_json(self, data: object) -> str | bytes:
        # Every subscription event is encoded once per subscriber: the standard library's
        # encoder was a sixth of the server's time with a thousand of them. A str, because
        # strawberry sends bytes as binary WebSocket frames, which the protocols do not allow.
        try:
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:
            # Lone surrogates, which the portal puts in specs and `Job.spec` shows back, are
            # not UTF-8: orjson refuses them, the standard library escapes them (\udXXX).
            return super().encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        # WebSocket messages; an UnacceptableJSON is a JSONDecodeError to strawberry.
        return strict_json_loads(data)

    def parse_json(self, data: str | bytes) -> object:
        # HTTP bodies and the `variables` of a GET.
        try:
            return strict_json_loads(data)
        except UnacceptableJSON as error:
            raise HTTPException(400, f"the request is refused: {error.reason}") from None

    async def prepare_requests(
        self, request: AsyncHTTPRequestAdapter, items: list[GraphQLRequestData]
    ) -> list[GraphQLRequestData]:
        # Persisted queries (web/persisted_queries.py), after the read-token check.
        assert isinstance(request, _RequestAdapter)
        services = services_of(request.starlette_request)
        admin_token = services.settings.admin_token
        admin = admin_token is not None and tokens_match(
            bearer_token(request.headers.get("authorization")), admin_token
        )
        return [
            await persisted_queries.prepare(item, services.persisted, admin=admin) for item in items
        ]

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._graphiql_page)

    async def on_ws_connect(self, context: BeaconContext) -> UnsetType | dict[str, object] | None:
        if not grants_read(
            context.services.settings,
            context.header_token,
            connection_token(context.connection_params),
        ):
            raise ConnectionRejectionError({"reason": READ_TOKEN_REQUIRED})
        return await super().on_ws_connect(context)


def services_of(connection: HTTPConnection) -> Services:
    """The app's services, once its lifespan has started them."""
    services: Services | None = getattr(connection.app.state, "services", None)
    if services is None:
        raise RuntimeError("the app is not started")
    return services


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    state = app.state
    async with running_services(state.settings, run_worker=state.run_worker) as services:
        state.services = services
        # What start-up made (modules, the schema, the services) lives as long as the app:
        # kept out of the collector's full passes, which walked all of it again and again
        # while a big answer's tens of thousands of objects were built (a third of a
        # 5,000-execution job query's CPU). Given back to the collector when the app stops
        # (a process that starts several apps, as the tests do, does not keep their cycles).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            state.services = None
            # Before the unfreeze: a freeze scheduled for later would keep this app's cycles.
            state.graphql.fanout.freezer.close()
            gc.unfreeze()


async def guarded_graphql(request: Request) -> Response:
    if request.method == "POST":
        # CSRF: a page on another site can make a browser POST only text/plain, urlencoded
        # or multipart bodies without a CORS preflight; none of them is accepted here.
        refusal = unsupported_media_type(request.headers.get("content-type"))
        if refusal is not None:
            return Response(refusal, status_code=415, media_type="application/json")
    # Anything that may execute needs read access, whatever its headers (web/auth.py).
    if not only_asks_for_the_page(request) and not grants_read(
        request.app.state.settings, request_token(request)
    ):
        return Response(
            refusal_body(READ_TOKEN_REQUIRED),
            status_code=401,
            media_type="application/json",
            headers={"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    try:
        return await answer(request)
    except HTTPException as error:
        # strawberry's own refusals (a body that is not JSON, a mutation over GET, no
        # query): GraphQL-style, with a code, instead of a bare 500 from Starlette.
        return Response(
            error_body(error.reason, HTTP_ERROR_CODES.get(error.status_code, "BAD_REQUEST")),
            status_code=error.status_code,
            media_type="application/json",
        )


async def answer(request: Request) -> Response:
    graphql: BeaconGraphQL = request.app.state.graphql
    responses = services_of(request).responses
    if not responses.enabled:
        return await graphql.run(request)  # type: ignore[return-value]
    headers = request.headers
    key = request_key(
        request.method.encode(),
        request.url.query.encode(),
        await request.body(),
        headers.get("accept", "").encode(),
        headers.get("authorization", "").encode(),
    )
    cached = await responses.lookup(key)
    if cached is not None:
        # The key holds the Accept header, so the stored answer had this type.
        return Response(cached, media_type=response_media_type(headers.get("accept")))
    response: Response = await graphql.run(request)  # type: ignore[assignment]
    context: BeaconContext | None = getattr(request.state, "beacon_context", None)
    body = getattr(response, "body", None)
    if (
        context is not None
        and response.status_code == 200
        and isinstance(body, bytes)
        and media_type(response.headers.get("content-type"))
        == response_media_type(headers.get("accept"))
        and b'"errors"' not in body
    ):
        await responses.store(key, body, context.ledger)
    return response


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    services = services_of(request)
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


async def metrics(request: Request) -> Response:
    if not grants_metrics(request.app.state.settings, request_token(request)):
        return Response(
            refusal_body(METRICS_TOKEN_REQUIRED), status_code=401, media_type="application/json"
        )
    services = services_of(request)
    return PlainTextResponse(
        await render_metrics(services.sessions, services.registry),
        media_type="text/plain; version=0.0.4",
    )


async def dashboard(_: Request) -> Response:
    return FileResponse(STATIC_DIR / "dashboard" / "index.html")


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> Starlette:
    """The app; its endpoints find the settings, the GraphQL handler and (once the lifespan
    has started them) the services in `app.state`."""
    settings = settings or load_settings()
    graphql = BeaconGraphQL(
        introspection=settings.introspection,
        allowed_origins=settings.allowed_origins,
        max_batch=settings.max_batch_operations,
    )
    app = Starlette(
        routes=[
            Route("/graphql", guarded_graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", metrics),
            Route(KEYS_PATH, published_keys),
            Route("/", dashboard),
            Route("/jobs/{job_id}", dashboard),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(RequestMetrics),
            Middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.run_worker = run_worker
    app.state.graphql = graphql
    app.state.services = None
    return app
