"""Storage: the SQLAlchemy models, the engine, Alembic, and every query and status change;
`statuses` holds the job and execution statuses and the progress arithmetic, once.

A leaf: imports nothing of beacon_gql outside db/ (tests/test_architecture.py checks it);
every other room imports it.
"""
