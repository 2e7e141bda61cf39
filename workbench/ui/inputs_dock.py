"""The Inputs dock: opened images as thumbnails; drag-and-drop, paste, folders, samples."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.widgets.qt_images import array_from_qimage, icon_from_array

ID_ROLE = Qt.ItemDataRole.UserRole
CACHE_SIZE = 6


@dataclass
class InputRecord:
    """One opened input: a file, or an image held in memory (pasted, dataset sample)."""

    id: str
    name: str
    path: str | None
    image: np.ndarray | None = None
    video: object = None  # VideoInfo for a video file


class DropList(QListWidget):
    """Thumbnail list that accepts dropped files and folders."""

    files_dropped = Signal(list)

    def __init__(self):
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(84, 84))
        self.setGridSize(QSize(100, 116))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event):  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):  # noqa: N802 - Qt override
        event.acceptProposedAction()

    def dropEvent(self, event):  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.files_dropped.emit(paths)
            event.acceptProposedAction()


class InputsDock(QDockWidget):
    """Lists inputs; the selected one becomes ``state.image`` (loaded on the IO runner)."""

    def __init__(self, state, io_runner, parent=None):
        super().__init__("Inputs", parent)
        self.setObjectName("InputsDock")
        self.state, self.io = state, io_runner
        self.records: dict[str, InputRecord] = {}
        self._ids = itertools.count(1)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._select_next: set[str] = set()
        self.list = DropList()
        self.list.files_dropped.connect(lambda paths: self.add_paths(paths, select=True))
        self.list.currentItemChanged.connect(self._on_current)
        remove = QPushButton("Remove")
        remove.setToolTip("close the selected inputs (Delete)")
        remove.clicked.connect(self.remove_selected)
        paste = QPushButton("Paste")
        paste.setToolTip("add the image (or image files) on the clipboard (Ctrl+V)")
        paste.clicked.connect(self.paste)
        buttons = QHBoxLayout()
        buttons.addWidget(paste)
        buttons.addWidget(remove)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.setWidget(body)
        QShortcut(QKeySequence.StandardKey.Paste, self.list, activated=self.paste,
                  whatsThis="Paste an image")
        QShortcut(QKeySequence.StandardKey.Delete, self.list, activated=self.remove_selected,
                  whatsThis="Remove the selected inputs")

    # ---------------------------------------------------------------- adding
    def add_paths(self, paths, select: bool = False) -> None:
        """Open files and folders; bad files are skipped and reported, never fatal."""
        from workbench.io.thumbnails import load_thumbnails

        paths = [str(p) for p in paths]
        if not paths:
            return
        token = f"add-{next(self._ids)}"
        if select:
            self._select_next.add(token)
        self.io.submit(
            partial(load_thumbnails, paths),
            name=f"Opening {Path(paths[0]).name}" + (" …" if len(paths) > 1 else ""),
            on_partial=partial(self._on_thumbnail, token),
            on_finished=self._on_opened,
            on_error=self.state.error,
        )

    def add_array(self, image: np.ndarray, name: str, select: bool = True) -> str:
        """Add an in-memory image (pasted, or a dataset sample)."""
        from workbench.io.thumbnails import make_thumbnail

        record = InputRecord(f"mem-{next(self._ids)}", name, None, image)
        self._add_item(record, make_thumbnail(image))
        if select:
            self.select(record.id)
        return record.id

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.add_paths(paths, select=True)
                return
        image = QGuiApplication.clipboard().image()
        if image is None or image.isNull():
            self.state.error("The clipboard holds no image or image file")
            return
        self.add_array(array_from_qimage(image), f"Pasted {next(self._ids)}")

    def record_for_path(self, path) -> InputRecord | None:
        """The open input read from ``path`` (the same file by any name), if any."""
        wanted = Path(path).resolve()
        return next((r for r in self.records.values()
                     if r.path and Path(r.path).resolve() == wanted), None)

    def _on_thumbnail(self, token: str, item) -> None:
        path, thumb, error, video = item
        if error is not None:
            self.state.error(error)
            return
        known = self.record_for_path(path)
        if known is not None:  # opening a folder again does not add its files twice
            if token in self._select_next:
                self._select_next.discard(token)
                self.select(known.id)
            return
        record = InputRecord(f"file-{next(self._ids)}", Path(path).name, path, video=video)
        self._add_item(record, thumb)
        if token in self._select_next or self.list.currentItem() is None:
            self._select_next.discard(token)
            self.select(record.id)

    def _on_opened(self, failures) -> None:
        if failures and len(failures) > 1:
            names = ", ".join(Path(p).name for p, _ in failures[:5])
            self.state.error(f"Skipped {len(failures)} unreadable files: {names}")

    def _add_item(self, record: InputRecord, thumb: np.ndarray) -> None:
        self.records[record.id] = record
        text = record.name
        if record.video is not None:
            text = f"{record.name}\n▶ {record.video.duration:.1f} s"
        item = QListWidgetItem(icon_from_array(thumb), text)
        item.setData(ID_ROLE, record.id)
        item.setToolTip(record.path or record.name)
        self.list.addItem(item)

    # -------------------------------------------------------------- selection
    def select(self, record_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == record_id:
                self.list.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                return

    def current_record(self) -> InputRecord | None:
        item = self.list.currentItem()
        return self.records.get(item.data(ID_ROLE)) if item is not None else None

    def file_paths(self) -> list[str]:
        return [r.path for r in self.records.values() if r.path]

    def _on_current(self, current, _previous) -> None:
        if current is None:
            self.state.set_image(None)
            return
        record = self.records[current.data(ID_ROLE)]
        if record.video is not None:
            self._open_video(record)
            return
        self.state.set_video(None)  # a still: no clip
        if record.image is not None:
            self.state.set_image(record.image, record.name)
        elif record.path in self._cache:
            self._cache.move_to_end(record.path)
            self.state.set_image(self._cache[record.path], record.name, record.path)
        else:
            self._load_full(record)

    def _open_video(self, record: InputRecord) -> None:
        """A video: the Video tab plays it; every other tab sees its first frame."""
        from workbench.io.video import VideoReader

        def first_frame(ctx):
            with VideoReader(record.path, cache_mb=1) as reader:
                return reader.frame(0)

        self.state.set_video(record.path)
        self.io.submit(first_frame, name=f"Opening {record.name}", key="current-image",
                       on_finished=lambda image: self.state.set_image(
                           image, f"{record.name} · frame 0", ""),
                       on_error=self.state.error)

    def _load_full(self, record: InputRecord) -> None:
        from workbench.io.images import load_image

        def done(image):
            self._cache[record.path] = image
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            if self.current_record() is record:
                self.state.set_image(image, record.name, record.path)

        self.io.submit(
            lambda ctx: load_image(record.path),
            name=f"Loading {record.name}",
            key="current-image",
            on_finished=done,
            on_error=self.state.error,
        )

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            record = self.records.pop(item.data(ID_ROLE), None)
            if record is not None and record.path:
                self._cache.pop(record.path, None)
            self.list.takeItem(self.list.row(item))
