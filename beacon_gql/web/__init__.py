"""The web edge: the Starlette app and its endpoints (/graphql over HTTP and WebSocket, /health,
/ready, /metrics, the dashboard, static assets), request limits, GraphiQL.

May import the schema, services, config and the rooms below them; only cli imports it.
"""
