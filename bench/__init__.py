"""Benchmarks of beacon_gql, each figure a ratio against a baseline measured in the same run.

Run them all with `python -m bench` (see bench/__main__.py and bench/README.md).
"""
