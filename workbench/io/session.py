"""The ``.wbsession`` format: a zip with a JSON manifest, result arrays and copied inputs.

Layout of the zip::

    manifest.json                 format_version, workbench_version, created, window,
                                  inputs, model, tabs (see :func:`new_manifest`)
    arrays/<tab>/<name>.npy       numpy results (``np.save(allow_pickle=False)``)
    inputs/<n>_<file name>        copies of the opened inputs, when asked for

Writing is atomic (a temporary file beside the target, synced, then renamed).  Reading
is tolerant: a file that is not a session raises :class:`WorkbenchError`; a newer format,
an unreadable array or a missing copy is one line in the returned ``problems`` and the
rest still opens.  Nothing is ever unpickled.  No Qt here.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import shutil
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from workbench.errors import WorkbenchError

FORMAT_VERSION = 1
SUFFIX = ".wbsession"
MANIFEST = "manifest.json"
ARRAYS = "arrays"
INPUTS = "inputs"
MAX_MEMBER_BYTES = 4 << 30  # an array or copy claiming more than this is refused


def new_manifest(**parts) -> dict:
    """A manifest with the format's header filled in; ``parts`` add or override keys
    (``window``, ``inputs``, ``model``, ``tabs``)."""
    from workbench import __version__

    manifest = {"format_version": FORMAT_VERSION, "workbench_version": __version__,
                "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "window": {}, "inputs": [], "model": {}, "tabs": {}}
    manifest.update(parts)
    return manifest


def array_member(key: str) -> str:
    """``"Attribution/heat"`` → ``"arrays/Attribution/heat.npy"`` (names are checked)."""
    parts = key.split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") or "\\" in p for p in parts):
        raise WorkbenchError(f"bad session array name '{key}': use '<tab>/<name>'")
    return f"{ARRAYS}/{parts[0]}/{parts[1]}.npy"


def copy_member(number: int, path) -> str:
    """Where input number ``number`` is copied inside the zip."""
    return f"{INPUTS}/{number}_{Path(path).name}"


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, PurePosixPath)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_session(path, manifest: dict, arrays: dict | None = None,
                  copies: dict | None = None) -> Path:
    """Write ``manifest``, ``arrays`` (``{"<tab>/<name>": ndarray}``) and ``copies``
    (``{member name: source file}``) to ``path`` atomically; returns the path."""
    from workbench.io.atomic import atomic_path

    text = json.dumps(manifest, indent=1, default=_json_default, allow_nan=True)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr(MANIFEST, text)
            for key, array in (arrays or {}).items():
                archive.writestr(array_member(key), _npy_bytes(array))
            for member, source in (copies or {}).items():
                if not str(member).startswith(f"{INPUTS}/"):
                    raise WorkbenchError(f"bad session copy name '{member}'")
                archive.write(source, member, zipfile.ZIP_STORED)
    return Path(path)


def _npy_bytes(array) -> bytes:
    array = np.asarray(array)
    if array.dtype.hasobject:
        raise WorkbenchError("session arrays must be plain numbers, not Python objects")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def read_session(path) -> tuple[dict, dict, list[str]]:
    """``(manifest, arrays, problems)`` of the session at ``path``.

    Raises :class:`WorkbenchError` when the file is missing, not a zip or has no
    readable manifest; anything else that cannot be read is a line in ``problems``.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"Cannot open session '{path}': no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _read_manifest(archive, path)
            problems = _version_problems(manifest)
            arrays = _read_arrays(archive, problems)
    except zipfile.BadZipFile as exc:
        raise WorkbenchError(f"Cannot open session '{path}': not a Workbench session "
                             f"(corrupt or not a zip file: {exc})") from exc
    except OSError as exc:
        raise WorkbenchError(f"Cannot open session '{path}': {exc}") from exc
    return manifest, arrays, problems


def _read_manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        raw = archive.read(MANIFEST)
    except KeyError as exc:
        raise WorkbenchError(f"Cannot open session '{path}': it has no {MANIFEST}") from exc
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # CRC or decompression error
        raise WorkbenchError(f"Cannot open session '{path}': its manifest is damaged "
                             f"({exc})") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError(f"Cannot open session '{path}': its manifest is not JSON "
                             f"({exc})") from exc
    if not isinstance(manifest, dict):
        raise WorkbenchError(f"Cannot open session '{path}': its manifest is not an object")
    for key, kind in (("window", dict), ("inputs", list), ("model", dict), ("tabs", dict)):
        if not isinstance(manifest.get(key), kind):
            manifest[key] = kind()
    return manifest


def _version_problems(manifest: dict) -> list[str]:
    version = manifest.get("format_version")
    if not isinstance(version, int):
        return ["the session does not say its format version; opening what can be read"]
    if version > FORMAT_VERSION:
        made = manifest.get("workbench_version", "a newer version")
        return [f"the session was saved by Workbench {made} (format {version}; this version "
                f"reads format {FORMAT_VERSION}): opening what this version understands"]
    return []


def _read_arrays(archive: zipfile.ZipFile, problems: list[str]) -> dict:
    arrays = {}
    for info in archive.infolist():
        name = info.filename
        if not (name.startswith(f"{ARRAYS}/") and name.endswith(".npy")):
            continue
        key = name[len(ARRAYS) + 1 : -len(".npy")]
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append(f"result '{key}' is too large to read ({info.file_size} bytes)")
            continue
        try:
            arrays[key] = np.load(io.BytesIO(archive.read(info)), allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any damage is one item's problem
            why = ("it is not a plain numpy array (pickled data is never loaded)"
                   if "pickle" in str(exc) else f"{type(exc).__name__}: {exc}")
            problems.append(f"result '{key}' could not be read: {why}")
    return arrays


def extract_copy(path, member: str, folder) -> Path:
    """Extract the copied input ``member`` of session ``path`` into ``folder``; returns
    the extracted file (an existing file of the same size is reused)."""
    folder = Path(folder)
    target = folder / PurePosixPath(member).name
    if PurePosixPath(member).parent != PurePosixPath(INPUTS) or target.name in ("", ".", ".."):
        raise WorkbenchError(f"bad copied input name '{member}'")
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            if info.file_size > MAX_MEMBER_BYTES:
                raise WorkbenchError(f"copied input '{member}' is too large")
            if target.is_file() and target.stat().st_size == info.file_size:
                return target
            folder.mkdir(parents=True, exist_ok=True)
            from workbench.io.atomic import atomic_path

            with atomic_path(target) as tmp, archive.open(info) as source, \
                    open(tmp, "wb") as out:
                shutil.copyfileobj(source, out)
    except KeyError as exc:
        raise WorkbenchError(f"the session has no copy '{member}'") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbenchError(f"copied input '{member}' could not be read ({exc})") from exc
    return target
