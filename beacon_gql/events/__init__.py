"""Publish/subscribe of job events: the hub that services publish to and subscriptions read
from, and the broadcast backends that carry events between processes.

May import `db/`; services and the schema import from here.
"""
