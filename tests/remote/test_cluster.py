"""Connecting: workers described, clear errors for bad or unreachable addresses."""

from __future__ import annotations

import time

import pytest

from workbench.core.remote.cluster import (
    ClusterError,
    connect,
    parse_address,
    version_mismatch,
    versions,
    workers,
)


def test_workers_are_described(client):
    rows = workers(client)
    assert len(rows) == 2 and all("cpu" in row.devices for row in rows)
    assert all(row.threads == 1 and row.memory_bytes > 0 for row in rows)


def test_unreachable_scheduler_is_one_clear_line_within_seconds():
    started = time.perf_counter()
    with pytest.raises(ClusterError, match="cannot reach"):
        connect("tcp://127.0.0.1:9", timeout_s=2)
    assert time.perf_counter() - started < 10


def test_bad_addresses_and_versions():
    with pytest.raises(ClusterError, match="not a Dask scheduler address"):
        parse_address("host:8786")
    assert parse_address("local:3") == ("", 3)
    mine = versions()
    assert version_mismatch(mine, mine) == ""
    other = {**mine, "torch": "1.0"}
    assert "torch 1.0" in version_mismatch(mine, other)
