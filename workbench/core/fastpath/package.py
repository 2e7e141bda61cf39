"""Opening a compiled package and giving it the model's own weights.

Packages are built without their weights (``package_constants_in_so=False``): a process
that loads one hands it the eager model's parameters and buffers, shared, not copied (the
package shrank from 21 MB to 2.5 MB for EfficientNet-Lite0 and loads in ~20 ms).  A network
whose graph holds tensors that are not attributes of the module (made while tracing) keeps
them in the package instead (``record["weights"] == "inside"``).

The compiled library is called through ``ctypes`` and its C interface (AOTInductor's
``AOTInductorModelContainer*`` functions), not through torch's ``AOTIModelPackageLoader``:
that binding holds Python's interpreter lock for the whole forward pass, which stalled the
window's event loop for 300 ms at a time during a sweep; a ``ctypes`` call releases it
(measured: a thread running 117 ms forwards back to back delayed a 10 ms timer by ≤ 6 ms).
Where that interface is missing the binding is used, and :attr:`Opened.releases_lock` is
False (the window then stays eager).
"""

from __future__ import annotations

import ctypes
import os
import weakref
import zipfile
from pathlib import Path

import torch

OUTSIDE, INSIDE = "outside", "inside"
_VOID = ctypes.c_void_p


class _Constant(ctypes.Structure):  # AOTInductorConstantMapEntry
    _fields_ = [("name", ctypes.c_char_p), ("handle", _VOID)]


def _capsule_api():
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = _VOID, [ctypes.py_object, ctypes.c_char_p]
    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = ctypes.py_object, [_VOID, ctypes.c_char_p, _VOID]
    return get, new


def resolve(module: torch.nn.Module, fqn: str):
    """The tensor at dotted path ``fqn`` of ``module`` (``None`` when there is none)."""
    value = module
    for part in fqn.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value if isinstance(value, torch.Tensor) else None


def extracted(path) -> Path:
    """The package's model folder, unpacked once beside it (``<key>.pt2.d/``).  Files are
    replaced, never rewritten in place: a loaded library is mapped from its file."""
    path = Path(path)
    folder = path.with_name(path.name + ".d")
    stamp = folder / ".from"
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist()
                   if "/data/aotinductor/" in m.filename and not m.is_dir()]
        mark = " ".join(f"{m.filename}:{m.CRC}:{m.file_size}" for m in members)
        if stamp.is_file() and stamp.read_text() == mark:
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        for member in members:
            target = folder / Path(member.filename).name
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            partial.write_bytes(archive.read(member))
            os.replace(partial, target)
    stamp.write_text(mark)
    return folder


class Opened:
    """A loaded package: ``x -> (logits, features | None)``, run through its C interface
    with the interpreter lock released.  It keeps the weights' handles alive."""

    releases_lock = True

    def __init__(self, path, device: torch.device, module: torch.nn.Module, weights: str):
        folder = extracted(path)
        libraries = sorted(folder.glob("*.so"))
        if len(libraries) != 1:
            raise RuntimeError(f"the package holds {len(libraries)} libraries, not one")
        self.lib = lib = ctypes.CDLL(str(libraries[0]))
        self._declare(lib)
        self.handle = _VOID()
        self._check(lib.AOTInductorModelContainerCreateWithDevice(
            ctypes.byref(self.handle), 1, str(device).encode(), str(folder).encode()), "create")
        weakref.finalize(self, lib.AOTInductorModelContainerDelete, self.handle)
        count = ctypes.c_size_t()
        lib.AOTInductorModelContainerGetNumOutputs(self.handle, ctypes.byref(count))
        self.outputs = count.value
        self.get_pointer, self.new_capsule = _capsule_api()
        self.module = module  # the package points at its weights: keep them alive
        if weights == OUTSIDE:
            self._give_weights(module)

    @staticmethod
    def _declare(lib) -> None:
        lib.AOTInductorModelContainerCreateWithDevice.argtypes = [
            ctypes.POINTER(_VOID), ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p]
        lib.AOTInductorModelContainerGetConstantName.argtypes = [
            _VOID, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]
        lib.AOTInductorModelContainerGetConstantOriginalFQN.argtypes = [
            _VOID, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]
        lib.AOTInductorModelContainerUpdateUserManagedConstantBufferPairs.argtypes = [
            _VOID, ctypes.POINTER(_Constant), ctypes.c_size_t, ctypes.c_bool, ctypes.c_bool]
        lib.AOTInductorModelContainerRun.argtypes = [
            _VOID, ctypes.POINTER(_VOID), ctypes.c_size_t, ctypes.POINTER(_VOID),
            ctypes.c_size_t, _VOID, _VOID]

    @staticmethod
    def _check(code: int, what: str) -> None:
        if code != 0:
            raise RuntimeError(f"the compiled package failed to {what} (code {code})")

    def _give_weights(self, module) -> None:
        lib, count = self.lib, ctypes.c_size_t()
        lib.AOTInductorModelContainerGetNumConstants(self.handle, ctypes.byref(count))
        entries = (_Constant * count.value)()
        self._names = []  # the C strings must outlive the call
        for i in range(count.value):
            name, fqn = ctypes.c_char_p(), ctypes.c_char_p()
            lib.AOTInductorModelContainerGetConstantName(self.handle, i, ctypes.byref(name))
            lib.AOTInductorModelContainerGetConstantOriginalFQN(self.handle, i, ctypes.byref(fqn))
            tensor = resolve(module, fqn.value.decode())
            if tensor is None:
                raise RuntimeError(f"the network has no weight '{fqn.value.decode()}'")
            self._names.append(name.value)
            # a new at::Tensor sharing the weight's storage, owned by the package from now
            capsule = torch._C._aoti.unsafe_alloc_void_ptr_from_tensor(tensor.detach())
            entries[i].name, entries[i].handle = name.value, self.get_pointer(capsule, None)
        self._check(lib.AOTInductorModelContainerUpdateUserManagedConstantBufferPairs(
            self.handle, entries, count.value, False, True), "take the weights")

    def constant_fqns(self) -> list[str]:
        lib, count = self.lib, ctypes.c_size_t()
        lib.AOTInductorModelContainerGetNumConstants(self.handle, ctypes.byref(count))
        names = []
        for i in range(count.value):
            fqn = ctypes.c_char_p()
            lib.AOTInductorModelContainerGetConstantOriginalFQN(self.handle, i, ctypes.byref(fqn))
            names.append(fqn.value.decode())
        return names

    def __call__(self, x):
        capsules = torch._C._aoti.unsafe_alloc_void_ptrs_from_tensors([x])  # stolen by Run
        inputs = (_VOID * 1)(self.get_pointer(capsules[0], None))
        outputs = (_VOID * self.outputs)()
        self._check(self.lib.AOTInductorModelContainerRun(  # ctypes releases the lock here
            self.handle, inputs, 1, outputs, self.outputs, None, None), "run")
        tensors = iter(torch._C._aoti.alloc_tensors_by_stealing_from_void_ptrs(
            [self.new_capsule(o, None, None) for o in outputs if o]))
        values = [next(tensors) if o else None for o in outputs]
        return values[0], values[1] if len(values) > 1 else None


class Bound:
    """The same through torch's binding (holds the interpreter lock while it runs)."""

    releases_lock = False

    def __init__(self, path, device, module, weights: str):
        self.package = torch._inductor.aoti_load_package(str(path))
        if weights == OUTSIDE:
            fqns = self.package.loader.get_constant_fqns()
            constants = {fqn: resolve(module, fqn) for fqn in fqns}
            absent = [fqn for fqn, tensor in constants.items() if tensor is None]
            if absent:
                raise RuntimeError(f"the network has no weight '{absent[0]}'")
            self.package.load_constants(constants, check_full_update=True, user_managed=True)
        self.module = module  # the package points at its weights

    def __call__(self, x):
        out = tuple(self.package(x))
        return out[0], out[1] if len(out) > 1 else None


def open_package(path, device: torch.device, module: torch.nn.Module, weights: str = OUTSIDE):
    """The package at ``path`` running on ``module``'s weights (the exported module: its
    attribute names are the package's constants)."""
    try:
        return Opened(path, device, module, weights)
    except (AttributeError, OSError):  # no C interface here: torch's binding
        return Bound(path, device, module, weights)


def missing_weights(path, device: torch.device, module: torch.nn.Module) -> list[str]:
    """The package's constants that ``module`` does not have as attributes."""
    try:
        fqns = Opened(path, device, module, INSIDE).constant_fqns()
    except (AttributeError, OSError):
        fqns = torch._inductor.aoti_load_package(str(path)).loader.get_constant_fqns()
    return [fqn for fqn in fqns if resolve(module, fqn) is None]
