"""Publish/subscribe of job events: the hub that services publish to and subscriptions read
from, and the broadcast backends that carry events between processes (broadcast picks one
from the URL; backend is their interface; one module per backend: memory, PostgreSQL, Redis).

May import `db/`; services and the schema import from here.
"""
