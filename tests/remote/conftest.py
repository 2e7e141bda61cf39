"""One real Dask cluster for the remote tests: a scheduler and two worker processes on
127.0.0.1 (never a mock), started once per test session."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def cluster():
    """A ``LocalCluster`` with two single-thread worker processes."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None,
                      scheduler_kwargs={"dashboard": False}) as local:
        yield local


@pytest.fixture(scope="session")
def client(cluster):
    from distributed import Client

    with Client(cluster) as connected:
        yield connected
