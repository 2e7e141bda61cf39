"""Connecting to a Dask cluster, and what its workers are.

A cluster is a trust boundary: Dask moves pickled functions and data, so Workbench only
connects to an address the user gave (``tcp://host:8786``, ``tls://host:8786``, or
``local:N`` for a local cluster of N worker processes on 127.0.0.1) and takes TLS settings
from Dask's own configuration (``distributed.comm.tls.*``: CA file, certificate, key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.errors import WorkbenchError

CONNECT_TIMEOUT_S = 5.0
LOCAL_PREFIX = "local:"


class ClusterError(WorkbenchError):
    """The cluster cannot be reached, or refuses a job (one line for the user)."""


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the status bar shows it."""

    address: str
    name: str
    threads: int
    memory_bytes: int
    devices: tuple[str, ...] = ()  # "cpu", "cuda:0 (NVIDIA H200, 139 GiB)", …
    resources: dict = field(default_factory=dict)

    def describe(self) -> str:
        memory = f"{self.memory_bytes / 2**30:.1f} GiB" if self.memory_bytes else "? GiB"
        devices = ", ".join(self.devices) or "cpu"
        threads = f"{self.threads} thread{'s' if self.threads != 1 else ''}"
        return f"{self.name}: {devices}, {threads}, {memory}"


def versions() -> dict[str, str]:
    """What a job carries and a worker must match: Workbench, torch and torchvision."""
    import torch
    import torchvision

    import workbench

    return {"workbench": workbench.__version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__}


def version_mismatch(wanted: dict, have: dict) -> str:
    """One line naming what differs (``""`` when every version matches)."""
    wrong = [f"{name} {have.get(name, 'missing')} (this computer: {version})"
             for name, version in wanted.items() if have.get(name) != version]
    return "; ".join(wrong)


def parse_address(address: str) -> tuple[str, int | None]:
    """``("tcp://h:8786", None)`` for a scheduler address, ``("", n)`` for ``local:n``."""
    address = (address or "").strip()
    if address.startswith(LOCAL_PREFIX):
        count = address[len(LOCAL_PREFIX):] or "2"
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"'{address}': a local cluster is local:N with N ≥ 1 workers")
        return "", int(count)
    if not address.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        raise ClusterError(f"'{address}' is not a Dask scheduler address: write "
                           "tcp://host:8786, tls://host:8786 or local:N")
    return address, None


def connect(address: str, timeout_s: float = CONNECT_TIMEOUT_S):
    """A ``distributed.Client`` for ``address`` (see :func:`parse_address`); a
    :class:`ClusterError` within ``timeout_s`` when the scheduler cannot be reached."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError("running on a cluster needs Dask: pip install -e \".[cluster]\"") \
            from exc
    scheduler, local_workers = parse_address(address)
    try:
        if local_workers is not None:
            cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None,
                                   scheduler_kwargs={"dashboard": False})
            return Client(cluster, timeout=timeout_s)
        return Client(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within "
                           f"{timeout_s:.0f} s ({type(exc).__name__}); check the address, "
                           "or run on this computer") from exc


def _worker_devices() -> dict:
    """Run on a worker: its devices (CUDA with name and memory, else the CPU)."""
    devices = ["cpu"]
    try:
        import torch

        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(f"cuda:{index} ({props.name}, {props.total_memory / 2**30:.0f} GiB)")
    except Exception:  # noqa: BLE001 - a worker without torch still lists its CPU
        pass
    return {"devices": devices}


def workers(client) -> list[WorkerInfo]:
    """Every worker of ``client``'s cluster with its threads, memory and devices."""
    info = client.scheduler_info().get("workers", {})
    devices = client.run(_worker_devices) if info else {}
    rows = []
    for address, row in sorted(info.items()):
        rows.append(WorkerInfo(address, str(row.get("name", address)),
                               int(row.get("nthreads", 0)), int(row.get("memory_limit", 0)),
                               tuple(devices.get(address, {}).get("devices", ())),
                               dict(row.get("resources", {}))))
    return rows


def where_text(client) -> str:
    """One line for the status bar: the scheduler and its workers."""
    rows = workers(client)
    address = client.scheduler.address if client.scheduler else "?"
    if not rows:
        return f"cluster {address}: no workers yet"
    return f"cluster {address}: " + "; ".join(row.describe() for row in rows)
