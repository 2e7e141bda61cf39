"""What a session holds of the window, and how it comes back.

:func:`capture_window` gathers the inputs, the model, the window's tab and theme and every
tab's choices and results (each tab's own ``session.py``: ``capture(panel)`` and
``restore(panel, choices, arrays)``).  :func:`plan_inputs` turns a read session into the
files to open (copies are extracted when the originals are gone); :func:`restore_tabs`
gives each tab its part once the model and the inputs are there.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TAB_MODULES = {
    "Predict": "workbench.ui.tabs.predict.session",
    "Attribution": "workbench.ui.tabs.attribution.session",
    "Occlusion": "workbench.ui.tabs.occlusion.session",
    "Feature visualization": "workbench.ui.tabs.featviz.session",
    "Embeddings": "workbench.ui.tabs.embeddings.session",
    "Adversarial": "workbench.ui.tabs.adversarial.session",
    "Inspector": "workbench.ui.tabs.inspector.session",
    "Video": "workbench.ui.tabs.video.session",
}
INPUT_ARRAYS = "Inputs"  # in-memory inputs (pasted, dataset samples) are arrays
# choices that mean something only for the model they were made with (classes, layers)
MODEL_CHOICES = {"target", "target_class", "class", "colour_class", "map_target", "followed",
                 "layer", "position", "channel", "patch_target"}
# the choices held in a dict that fit any model (other dicts hold results or classes)
SHARED_DICTS = ("params", "display", "live", "sweep_params", "patch_params")


@dataclass
class Opened:
    """A session read from disk, on its way into the window."""

    path: str
    manifest: dict
    arrays: dict
    problems: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # inputs to open, in order
    memory: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (name, image)
    current: str | None = None  # path (or in-memory name) of the input in front
    model: str = ""
    # every input in the saved order: ("file", path) or ("memory", index into memory)
    order: list[tuple[str, object]] = field(default_factory=list)
    current_at: int | None = None  # index into order of the input in front
    memory_ids: list[str] = field(default_factory=list)  # the Inputs dock's ids of memory

    def record_at(self, dock, index: int):
        """The Inputs dock's record of ``order[index]`` (``None`` while it is not open)."""
        kind, key = self.order[index]
        if kind == "file":
            return dock.record_for_path(key)
        ids = self.memory_ids
        return dock.records.get(ids[key]) if key < len(ids) else None


def _module(title: str):
    return importlib.import_module(TAB_MODULES[title])


# ---------------------------------------------------------------------------- capture
def capture_window(window, copy_inputs: bool = False):
    """``(manifest, arrays, copies)`` of everything worth keeping in ``window``."""
    from workbench.io.session import new_manifest

    inputs, arrays, copies = _capture_inputs(window, copy_inputs)
    model = window.state.model
    spec = model.name if model is not None else str(window._startup_model)
    tabs = {}
    for panel in window.panels:
        if panel.title not in TAB_MODULES:
            continue
        choices, panel_arrays = _module(panel.title).capture(panel)
        tabs[panel.title] = choices
        arrays.update({f"{panel.title}/{name}": a for name, a in panel_arrays.items()})
    manifest = new_manifest(
        window={"tab": window.current_panel().title, "dark": window.dark_action.isChecked()},
        inputs=inputs, model={"spec": spec, "device": window.model_dock.device_combo
                              .currentText() or "cpu"}, tabs=tabs)
    return manifest, arrays, copies


def _capture_inputs(window, copy_inputs: bool):
    from workbench.io.session import copy_member

    dock, inputs, arrays, copies = window.inputs, [], {}, {}
    current = dock.current_record()
    for row in range(dock.list.count()):
        record = dock.records.get(dock.list.item(row).data(_id_role()))
        if record is None:
            continue
        entry = {"name": record.name, "path": record.path, "current": record is current}
        if record.path is None and record.image is not None:
            key = f"{INPUT_ARRAYS}/{len(inputs)}"
            arrays[key] = np.ascontiguousarray(record.image, np.float32)
            entry["array"] = key
        elif copy_inputs and record.path and Path(record.path).is_file():
            entry["copied_as"] = copy_member(len(inputs), record.path)
            copies[entry["copied_as"]] = record.path
        inputs.append(entry)
    return inputs, arrays, copies


def _id_role():
    from workbench.ui.inputs_dock import ID_ROLE

    return ID_ROLE


def digest(manifest: dict, arrays: dict) -> str:
    """A fingerprint of what would be saved (the creation date left out): autosave writes
    only when it changes."""
    h = hashlib.blake2b(digest_size=16)
    body = {k: v for k, v in manifest.items() if k != "created"}
    h.update(json.dumps(body, sort_keys=True, default=str).encode())
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        h.update(f"{key}{array.dtype}{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------ open
def open_session(path) -> Opened:
    """Read ``path`` and decide what to open (raises WorkbenchError for a bad file)."""
    from workbench.io.session import read_session

    manifest, arrays, problems = read_session(path)
    opened = Opened(str(path), manifest, arrays, list(problems))
    opened.model = str((manifest.get("model") or {}).get("spec") or "")
    plan_inputs(opened)
    return opened


def plan_inputs(opened: Opened) -> None:
    """Which files and in-memory images to open; a missing file is a problem line (its
    copy in the session is used when there is one)."""
    for entry in opened.manifest.get("inputs", []):
        if not isinstance(entry, dict):
            continue
        name, path = str(entry.get("name") or "input"), entry.get("path")
        if entry.get("array"):
            image = opened.arrays.get(str(entry["array"]))
            if image is None or image.ndim != 3:
                opened.problems.append(f"input '{name}' (held in memory) could not be read")
                continue
            opened.order.append(("memory", len(opened.memory)))
            opened.memory.append((name, image))
            chosen = name
        else:
            chosen = _file_for(opened, entry, name, path)
            if chosen is None:
                continue
            opened.order.append(("file", chosen))
            opened.files.append(chosen)
        if entry.get("current"):
            opened.current, opened.current_at = chosen, len(opened.order) - 1


def _file_for(opened: Opened, entry: dict, name: str, path) -> str | None:
    from workbench.errors import WorkbenchError
    from workbench.io.session import extract_copy

    if path and Path(path).is_file():
        return str(path)
    if entry.get("copied_as"):
        try:
            return str(extract_copy(opened.path, str(entry["copied_as"]), copies_folder(opened)))
        except WorkbenchError as exc:
            opened.problems.append(f"input '{name}': {exc}")
            return None
    opened.problems.append(f"input file {path or name} is missing: not opened")
    return None


def copies_folder(opened: Opened) -> Path:
    """Where copied inputs of a session are extracted (a cache folder per session file)."""
    from workbench.io.samples import samples_cache_dir

    tag = hashlib.blake2b(str(Path(opened.path).resolve()).encode(), digest_size=4).hexdigest()
    return samples_cache_dir().parent / "session-inputs" / f"{Path(opened.path).stem}-{tag}"


# --------------------------------------------------------------------------- restore
def restore_tabs(window, opened: Opened, same_model: bool) -> list[str]:
    """Every tab's choices and results; per-item problems, each naming its tab.  When the
    saved model could not be loaded, results (computed with it) are left out."""
    problems: list[str] = []
    tabs = opened.manifest.get("tabs") or {}
    for panel in window.panels:
        choices = tabs.get(panel.title)
        if panel.title not in TAB_MODULES or not isinstance(choices, dict):
            continue
        prefix = f"{panel.title}/"
        arrays = {k[len(prefix):]: v for k, v in opened.arrays.items() if k.startswith(prefix)}
        if not same_model:  # results and classes belong to the saved model
            arrays = {}
            choices = {k: v for k, v in choices.items() if k not in MODEL_CHOICES and (
                not isinstance(v, dict) or k in SHARED_DICTS)}
        try:
            found = _module(panel.title).restore(panel, choices, arrays)
        except Exception as exc:  # noqa: BLE001 - one tab's damage never stops the rest
            found = [f"could not be restored ({type(exc).__name__}: {exc})"]
        problems += [f"{panel.title}: {text}" for text in found]
    _restore_window(window, opened.manifest.get("window") or {}, problems)
    return problems


def _restore_window(window, saved: dict, problems: list[str]) -> None:
    titles = [panel.title for panel in window.panels]
    tab = saved.get("tab")
    if tab in titles:
        window.tabs.setCurrentIndex(titles.index(tab))
    elif tab:
        problems.append(f"the tab '{tab}' does not exist in this version")
    if "dark" in saved and bool(saved["dark"]) != window.dark_action.isChecked():
        window.dark_action.setChecked(bool(saved["dark"]))
        window._apply_theme()
