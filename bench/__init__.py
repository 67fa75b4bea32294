"""Benchmarks of the commons registry against baselines measured in the same run (issue 8).

Run `python -m bench --help`. Every benchmark starts real `commons-registry serve` processes
on 127.0.0.1 (tests/nodes.py), with SQLite files or PostgreSQL databases made fresh per run.
"""
