"""One feature vector per image: a layer's activations, pooled, extracted in batches.

Pooling: a spatial ``(N, C, H, W)`` output is averaged over H, W; a video
``(N, C, T, H, W)`` over T, H, W; ViT tokens ``(N, 1 + k², C)`` give the class
token ``[:, 0]`` (other token sequences are averaged); ``(N, D)`` is kept.

Decoding and resizing run on a small thread pool that prefetches while the
model runs (``workers`` threads; 0 decodes inline).  When the layer's module
runs once per forward pass, the pass stops right after it: later layers are
never computed.  The hook is removed when extraction returns, fails or is
cancelled.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from workbench.core.embedding.datasets import problem_of
from workbench.core.jobs import JobContext, PlainContext
from workbench.errors import InputError, WorkbenchError

DEFAULT_WORKERS = 2  # measured best on 2 cores (benchmarks/bench_embedding.py)
INPUT_BUDGET_BYTES = 64 * 2**20  # a batch of prepared inputs stays below this
MAX_BATCH = 256
_SKIP_FOR_DEFAULT = ("Dropout", "Identity", "Flatten")
_POLL_S = 0.05


@dataclass
class FeatureSet:
    """Features of a dataset at one layer; rows follow the readable items in order."""

    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, -1 when unknown
    names: list[str]  # path (or name) of each row
    label_names: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, problem)
    model: str = ""
    layer: str = ""
    indices: np.ndarray | None = None  # the dataset item of each row
    key: str = ""  # cache key, when cached
    from_cache: bool = False

    @property
    def paths(self) -> list[str]:
        return self.names

    def __len__(self) -> int:
        return int(self.features.shape[0])


def default_layer(model) -> str:
    """The penultimate representation: the last layer before the class scores."""
    classes = model.num_classes
    for info in reversed(model.layers):
        shape = info.output_shape
        if shape is None or any(s in info.type_name for s in _SKIP_FOR_DEFAULT):
            continue
        if len(shape) == 2 and shape[1] == classes:
            continue
        return info.name
    raise InputError(f"{model.name} has no layer to take features from")


def pool(tensor: torch.Tensor, info=None) -> torch.Tensor:
    """``(N, ...)`` layer output → ``(N, D)`` float32 features (module docstring rules).

    ``info`` (the layer's ``LayerInfo``) tells channels-last outputs and tokens apart;
    without it the output is read channels-first.
    """
    from workbench.core.models.layout import TOKENS, channels_first

    if tensor.ndim == 3 and info is not None and info.layout == TOKENS:
        prefix = tensor.shape[1] - math.prod(channels_first(tensor, info).shape[2:])
        return (tensor[:, 0] if prefix else tensor.mean(dim=1)).float()
    if info is not None and tensor.ndim > 2:
        tensor = channels_first(tensor, info)  # says so when the layout is unknown
    if tensor.ndim == 2:
        out = tensor
    elif tensor.ndim in (4, 5):
        out = tensor.mean(dim=tuple(range(2, tensor.ndim)))
    elif tensor.ndim == 3:
        side = math.isqrt(max(tensor.shape[1] - 1, 0))
        is_vit = tensor.shape[1] > 1 and side * side == tensor.shape[1] - 1
        out = tensor[:, 0] if is_vit else tensor.mean(dim=1)
    else:
        out = tensor.flatten(1)
    return out.float()


class _StopForward(Exception):
    """Raised by the hook to skip the layers after the one we need."""


class _Recorder:
    def __init__(self, info=None, layer: str = ""):
        self.info, self.layer = info, layer
        self.output: torch.Tensor | None = None
        self.calls = 0
        self.stop = False

    def __call__(self, _module, _inputs, output):
        tensor = output if isinstance(output, torch.Tensor) else output[0]
        if not isinstance(tensor, torch.Tensor):
            raise InputError(f"layer output is a {type(output).__name__}, not a tensor")
        self.output = pool(tensor.detach(), self.info)
        self.calls += 1
        if self.stop:
            raise _StopForward()


@contextlib.contextmanager
def record_layer(model, layer: str):
    """Install a forward hook on ``layer`` that keeps its pooled output; always removed."""
    module = model.layer_module(layer)
    recorder = _Recorder(model.layer_info(layer), layer)
    handle = module.register_forward_hook(recorder)
    try:
        yield recorder
    finally:
        handle.remove()
        recorder.output = None


def forward_features(model, recorder: _Recorder, x: torch.Tensor) -> torch.Tensor:
    """Run ``x`` to the recorded layer: the compiled package when it returns this layer
    (:func:`workbench.core.fastpath.features`), else eagerly — after a first full pass
    that showed the layer runs once, stopping each pass right after it."""
    from workbench.core import fastpath

    fast = fastpath.features(model, recorder.layer, x)
    if fast is not None:
        return fast
    recorder.calls, recorder.output = 0, None
    with torch.inference_mode():
        try:
            model.module(x)
        except _StopForward:
            pass
    if recorder.output is None:
        raise InputError("the layer did not run during the forward pass")
    recorder.stop = recorder.calls == 1
    return recorder.output


def batch_cap(model) -> int:
    """Largest batch whose prepared inputs fit :data:`INPUT_BUDGET_BYTES`, a power of two."""
    per_image = 4 * math.prod(model.input_shape(1))
    cap = max(1, min(MAX_BATCH, INPUT_BUDGET_BYTES // per_image))
    return 1 << (cap.bit_length() - 1)


# ---------------------------------------------------------------- overlapped decoding


def _prepare(image: np.ndarray, size) -> torch.Tensor:
    from workbench.core.preprocess import to_pixels

    return to_pixels(image, size)[0]


def _prepare_item(dataset, index: int, size):
    try:
        return index, _prepare(dataset.load(index), size), None
    except WorkbenchError as exc:
        return index, None, problem_of(exc)


def _one_torch_thread() -> None:
    """Decoding threads resize with one intra-op thread (thread-local with OpenMP): with two
    threads each next to the model's own, a 2-core machine slowed down tens of times."""
    torch.set_num_threads(1)


def _prepared_stream(dataset, size, workers: int, stop: threading.Event):
    """``(index, (3, h, w) tensor or None, problem or None)`` in item order."""
    if dataset.sequential or workers <= 1:
        for index, image, problem in dataset.stream():
            if stop.is_set():
                return
            if image is None:
                yield index, None, problem
                continue
            try:
                yield index, _prepare(image, size), None
            except WorkbenchError as exc:
                yield index, None, problem_of(exc)
        return
    window = 4 * workers
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="embed-decode",
                            initializer=_one_torch_thread) as pool_:
        try:
            for index in range(len(dataset)):
                if stop.is_set():
                    return
                pending.append(pool_.submit(_prepare_item, dataset, index, size))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending and not stop.is_set():
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


class _Prefetcher:
    """Runs :func:`_prepared_stream` on a background thread into a bounded queue."""

    _DONE = object()

    def __init__(self, dataset, size, workers: int, depth: int):
        self.stop = threading.Event()
        self.queue: queue.Queue = queue.Queue(maxsize=max(2, depth))
        self.thread = threading.Thread(target=self._run, args=(dataset, size, max(1, workers)),
                                       name="embed-prefetch", daemon=True)
        self.thread.start()

    def _run(self, dataset, size, workers):
        _one_torch_thread()
        try:
            for entry in _prepared_stream(dataset, size, workers, self.stop):
                if not self._put(entry):
                    return
            self._put(self._DONE)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the job's thread
            self._put(exc)

    def _put(self, entry) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self, ctx: JobContext):
        while True:
            ctx.check()
            try:
                entry = self.queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if isinstance(entry, BaseException):
                raise entry
            return None if entry is self._DONE else entry

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5.0)


class _Inline:
    """The same interface without a thread (``workers=0``)."""

    def __init__(self, dataset, size):
        self.iterator = _prepared_stream(dataset, size, 0, threading.Event())

    def get(self, ctx: JobContext):
        ctx.check()
        return next(self.iterator, None)

    def close(self):
        self.iterator.close()


# ---------------------------------------------------------------------- extraction


def extract_features(model, dataset, layer: str | None = None, ctx: JobContext | None = None,
                     batch_size: int = 0, workers: int = DEFAULT_WORKERS) -> FeatureSet:
    """Features of every readable item of ``dataset`` at ``layer`` (default: penultimate).

    Parameters
    ----------
    model
        A :class:`~workbench.core.models.LoadedModel`.
    dataset
        A :class:`~workbench.core.embedding.datasets.Dataset`.
    batch_size
        0 sizes batches to the device with :class:`~workbench.core.batching.AdaptiveBatcher`.
    workers
        Decoding threads that prefetch while the model runs (0: decode inline).

    Unreadable items are listed in ``skipped`` as ``(path, problem)``; they never stop
    the extraction.  Raises ``Cancelled`` when ``ctx`` is cancelled.
    """
    ctx = ctx or PlainContext()
    layer = layer or default_layer(model)
    model.layer_module(layer)  # a clear message for an unknown name
    if len(dataset) == 0:
        raise WorkbenchError(f"the dataset '{dataset.name}' is empty")
    from workbench.core.batching import AdaptiveBatcher, model_key

    cap = max(batch_cap(model), batch_size)
    batcher = AdaptiveBatcher(model_key(model) + ("features",), cap, batch_size)
    source = (_Prefetcher(dataset, model.input_size, workers, cap) if workers > 0
              else _Inline(dataset, model.input_size))
    rows, indices, skipped = [], [], []
    try:
        with record_layer(model, layer) as recorder:
            _run_batches(model, dataset, source, recorder, batcher, ctx,
                         (rows, indices, skipped))
    finally:
        source.close()
    return _feature_set(model, dataset, layer, rows, indices, skipped)


def _run_batches(model, dataset, source, recorder, batcher, ctx, out):
    rows, indices, skipped = out
    total, done, finished = len(dataset), 0, False
    while not finished:
        size = batcher.size()
        tensors, batch_indices = [], []
        while len(tensors) < size:
            entry = source.get(ctx)
            if entry is None:
                finished = True
                break
            index, tensor, problem = entry
            done += 1
            if tensor is None:
                skipped.append((dataset.items[index].name, problem))
            else:
                tensors.append(tensor)
                batch_indices.append(index)
        if tensors:
            start = time.perf_counter()
            rows.append(forward_features(model, recorder, _batch(model, tensors)).cpu())
            batcher.record(len(tensors), time.perf_counter() - start)
            indices += batch_indices
        ctx.progress(done / total, f"Features {done} / {total}")


def _batch(model, tensors: list[torch.Tensor]) -> torch.Tensor:
    x = torch.stack(tensors).to(model.device, non_blocking=True)
    if model.kind == "video":
        x = x.unsqueeze(2).expand(-1, -1, model.num_frames, -1, -1).contiguous()
    return x


def _feature_set(model, dataset, layer, rows, indices, skipped) -> FeatureSet:
    if not rows:
        first = f"; first problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise WorkbenchError(f"none of the {len(dataset)} items could be read{first}")
    features = torch.cat(rows).numpy().astype(np.float32, copy=False)
    index = np.asarray(indices, dtype=np.int64)
    labels = dataset.labels[index]
    names = [dataset.items[i].name for i in indices]
    return FeatureSet(features, labels, names, list(dataset.label_names), skipped,
                      model.name, layer, index)
