"""The main window: menus, Inputs and Model docks, task tabs, status bar with Cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QTabWidget

from workbench import __version__
from workbench.ui import menus
from workbench.ui.clip_source import ClipSource
from workbench.ui.fastpath import FastPath
from workbench.ui.gc_guard import collector
from workbench.ui.inputs_dock import InputsDock
from workbench.ui.menus import build_menus
from workbench.ui.model_dock import ModelDock
from workbench.ui.settings import open_settings, read_bool, read_list
from workbench.ui.state import AppState
from workbench.ui.status import JobStatus
from workbench.ui.tabs.adversarial.panel import AdversarialPanel
from workbench.ui.tabs.attribution.panel import AttributionPanel
from workbench.ui.tabs.embeddings.panel import EmbeddingsPanel
from workbench.ui.tabs.featviz.panel import FeatureVizPanel
from workbench.ui.tabs.inspector.panel import InspectorPanel
from workbench.ui.tabs.occlusion.panel import OcclusionPanel
from workbench.ui.tabs.predict.panel import PredictPanel
from workbench.ui.tabs.video.panel import VideoPanel
from workbench.ui.theme import apply_theme
from workbench.worker import Runner

DEFAULT_MODEL = "efficientnet_lite0"
EXPORT_SCALE = 2.0
SHUTDOWN_TIMEOUT_S = 1.5
LAYOUT_VERSION = 2  # docks both on the left; a layout saved by an older version is not restored


def digits_samples_job(ctx):
    """One held-out digit per class, as in-memory pixel images."""
    from workbench.core.models.digits_data import digit_as_rgb, digits_split

    _, held_x, _, held_y = digits_split()
    return [(f"digit {d}", digit_as_rgb(held_x[list(held_y).index(d)])) for d in range(10)]


class MainWindow(QMainWindow):
    """Builds every dock and panel around one shared :class:`AppState` and two runners.

    ``runner`` runs model work (the one GPU worker); ``io_runner`` decodes images
    so that opening a folder never waits behind a long model job.
    """

    def __init__(self, files=None, model: str | None = None, restore: bool = True,
                 session: str | None = None, compile_models: bool | None = None):
        """``compile_models``: build compiled packages in the background (default: only
        for the real application's window, ``restore=True``; never for screenshots and
        benchmarks, whose windows must not start a compiler)."""
        super().__init__()
        collector().acquire(self._jobs_running)  # before any worker thread starts
        self.setWindowTitle(f"Workbench {__version__}")
        self.settings = open_settings()
        self.state = AppState(self)
        apply_theme(QApplication.instance(), restore and read_bool(self.settings, "dark", False),
                    restore and read_bool(self.settings, "presentation", False))
        self.runner = Runner("workbench-model")
        self.io_runner = Runner("workbench-io")
        self.inputs = InputsDock(self.state, self.io_runner, self)
        self.model_dock = ModelDock(self.state, self.runner, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.inputs)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.model_dock)
        self.splitDockWidget(self.inputs, self.model_dock, Qt.Orientation.Vertical)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("taskTabs")
        self.panels = [PredictPanel(self.state, self.runner),
                       AttributionPanel(self.state, self.runner),
                       OcclusionPanel(self.state, self.runner),
                       FeatureVizPanel(self.state, self.runner),
                       EmbeddingsPanel(self.state, self.runner),
                       AdversarialPanel(self.state, self.runner),
                       InspectorPanel(self.state, self.runner),
                       VideoPanel(self.state, self.runner, self.io_runner)]
        self.panel("Adversarial").embeddings = self.panel("Embeddings")
        self.panel("Inspector").open_channel.connect(self._open_channel)
        self.clip_source = ClipSource(self.state, self.io_runner, self)
        player = self.panel("Video").player
        player.frame_shown.connect(
            lambda index, _s: None if player.is_playing() else self.clip_source.follow(index))
        for panel in self.panels:
            self.tabs.addTab(panel, panel.title)
        self.setCentralWidget(self.tabs)
        self.model_dock.layer_activated.connect(self._layer_from_dock)
        self.tabs.currentChanged.connect(lambda _i: self._show_tab_layer())
        self.status = JobStatus(self.statusBar())
        self.status.attach(self.runner)
        self.status.attach(self.io_runner)
        self.state.message.connect(self.status.show_message)
        self.state.model_changed.connect(self._freeze_after_model)
        self._closed = False
        self._presenting, self._docks_shown = False, [True, True]
        build_menus(self)
        self.fastpath = FastPath(self, restore if compile_models is None else compile_models)
        self.fastpath.install_menu(self.settings_menu)
        self._persist = restore  # read the last session's settings, and save this one's
        self._restore(restore)
        self._startup_files = list(files or [])
        self.open_default_sample = True  # a session of in-memory images turns it off
        if not self._startup_files and restore:
            from pathlib import Path

            self._startup_files = [p for p in read_list(self.settings, "inputs")
                                   if Path(p).is_file()]
        self.started = False
        self._startup_model = model or (
            self.settings.value("model", DEFAULT_MODEL) if restore else DEFAULT_MODEL
        )
        self._session_file = session  # a .wbsession to open (workbench/ui/sessions.py)
        QTimer.singleShot(0, self._start)

    # ------------------------------------------------------------------ startup
    def _freeze_after_model(self, model) -> None:
        if model is not None:
            QTimer.singleShot(0, collector().freeze)
            QTimer.singleShot(0, self, self._widen_model_dock)

    def _widen_model_dock(self) -> None:
        """A new model's layer tree: widen the docks if its columns do not fit (never
        narrows what the user chose)."""
        self.model_dock.fit_columns()
        needed = self.model_dock.needed_width()
        if self.model_dock.width() < needed:
            self.resizeDocks([self.inputs, self.model_dock], [needed, needed],
                             Qt.Orientation.Horizontal)

    def _start(self) -> None:
        if self._closed:
            return
        self.sessions.start()  # crash check, autosave, a session's inputs and model
        from workbench.core import umap_process

        umap_process.enable()  # UMAP's numba must not hold this window's interpreter lock
        self.started = True
        if not self._persist or self.settings.value("windowState") is None:
            self._dock_sizes()
        self.model_dock.refresh_catalogue()
        self.model_dock.load(str(self._startup_model))
        files = self._startup_files
        if not files and self.open_default_sample:
            from workbench.io.samples import DEFAULT_SAMPLE, sample_path

            files = [str(sample_path(DEFAULT_SAMPLE))]
        self.inputs.add_paths(files, select=True)

    def _dock_sizes(self) -> None:
        """Both docks on the left, one column as wide as the layer tree's first three
        columns; the tabs take the rest of the window."""
        self.model_dock.fit_columns()
        width = max(26 * self.fontMetrics().averageCharWidth() + 120,
                    self.model_dock.needed_width())
        self.resizeDocks([self.inputs, self.model_dock], [width, width],
                         Qt.Orientation.Horizontal)
        third = max(160, self.height() // 3)
        self.resizeDocks([self.inputs, self.model_dock], [third, 2 * third],
                         Qt.Orientation.Vertical)

    def _restore(self, restore: bool) -> None:
        s = self.settings
        self.resize(1400, 860)
        self._dock_sizes()
        if restore and s.value("geometry") is not None:
            self.restoreGeometry(s.value("geometry"))
            self.restoreState(s.value("windowState"), LAYOUT_VERSION)
        self.dark_action.setChecked(restore and read_bool(s, "dark", False))
        self.presentation_action.setChecked(restore and read_bool(s, "presentation", False))
        self._apply_theme()
        if restore:
            self.tabs.setCurrentIndex(int(s.value("tab", 0) or 0))
            self.panels[0].topk.setValue(int(s.value("topk", 5) or 5))
            device = s.value("device", "cpu")
            if device and device != "cpu":
                self.model_dock.device_combo.addItem(device)
                self.model_dock.device_combo.setCurrentText(device)

    def _save(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("windowState", self.saveState(LAYOUT_VERSION))
        s.setValue("dark", self.dark_action.isChecked())
        s.setValue("presentation", self.presentation_action.isChecked())
        s.setValue("tab", self.tabs.currentIndex())
        s.setValue("topk", self.panels[0].topk.value())
        s.setValue("device", self.model_dock.device_combo.currentText())
        if self.state.model is not None and not self.state.model.name.startswith("/"):
            s.setValue("model", self.state.model.name)
        s.setValue("inputs", self.inputs.file_paths())
        s.sync()

    # ------------------------------------------------------------------ actions
    def open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open images", "",
            "Images and videos (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif *.mp4 *.mov "
            "*.m4v *.avi *.mkv *.webm);;All files (*)")
        if paths:
            self.inputs.add_paths(paths, select=True)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder")
        if folder:
            self.inputs.add_paths([folder], select=True)

    def open_motion_lesson(self, model: str = "") -> None:
        """The motion lesson in one click: the moving-digit clip (made once), a clip model
        (unless one of the motion models is loaded already), the Video tab, predictions
        over its clips and their spatiotemporal maps."""
        from workbench.io.samples import MOTION_SAMPLE, motion_sample_path

        video = self.panel("Video")
        self.tabs.setCurrentWidget(video)
        video.demo_when_ready("motion_", MOTION_SAMPLE)
        self.io_runner.submit(lambda ctx: motion_sample_path(), name="Making the motion clip",
                              on_finished=lambda path: self.inputs.add_paths([str(path)],
                                                                             select=True),
                              on_error=self.state.error)
        if model or not self.state.model_spec.startswith("motion_"):
            self.model_dock.load(model or menus.LESSON_MODEL)

    def open_digit_samples(self) -> None:
        def add(samples):
            for i, (name, image) in enumerate(samples):
                self.inputs.add_array(image, name, select=(i == 0))

        self.io_runner.submit(digits_samples_job, name="Loading digits", on_finished=add,
                              on_error=self.state.error)

    def open_scene_samples(self) -> None:
        """Four held-out digit scenes (made once into the cache folder) in the Inputs dock."""
        from workbench.io.samples import scene_sample_paths

        self.io_runner.submit(lambda ctx: scene_sample_paths(), name="Making digit scenes",
                              on_finished=lambda paths: self.inputs.add_paths(
                                  [str(p) for p in paths], select=True),
                              on_error=self.state.error)

    def _open_channel(self, layer: str, channel: int) -> None:
        """A channel clicked in the Inspector's activation grid opens in Feature
        visualization."""
        featviz = self.panel("Feature visualization")
        self.tabs.setCurrentWidget(featviz)
        featviz.show_channel(layer, channel)

    def _layer_from_dock(self, name: str) -> None:
        """A layer clicked in the Model dock goes to the tab in front, if it picks layers."""
        choose = getattr(self.current_panel(), "choose_layer", None)
        if choose is not None:
            choose(name)

    def _show_tab_layer(self) -> None:
        current = getattr(self.current_panel(), "current_layer", None)
        if current is not None:
            self.model_dock.show_layer(current())

    def panel(self, title: str):
        """The task tab called ``title``."""
        return next(p for p in self.panels if p.title == title)

    def current_panel(self):
        return self.tabs.currentWidget()

    def render_view(self, scale: float = EXPORT_SCALE) -> QImage:
        """The current tab rendered at ``scale`` × its on-screen size."""
        widget = self.current_panel()
        size = widget.size()
        image = QImage(int(size.width() * scale), int(size.height() * scale),
                       QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(scale)
        image.fill(self.palette().window().color())
        widget.render(image)
        return image

    def export_view(self, path: str, scale: float = EXPORT_SCALE) -> str:
        """Save the current tab as PNG with its caption in the PNG text, atomically."""
        from workbench.io.atomic import write_bytes_atomic
        from workbench.ui.widgets.qt_images import png_bytes

        image = self.render_view(scale)
        caption = getattr(self.current_panel(), "caption", lambda: "")()
        image.setText("Software", f"Workbench {__version__}")
        write_bytes_atomic(path, png_bytes(image, caption))
        return path

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export view", "workbench-view.png",
                                              "PNG image (*.png)")
        if path:
            try:
                self.export_view(path)
                self.state.info(f"Saved {path}")
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                self.state.error(f"Cannot save {path}: {exc}")

    def _set_figure_captions(self) -> None:
        for panel in self.panels:
            panel.caption_in_figures = self.caption_action.isChecked()

    def about(self) -> None:
        QMessageBox.about(self, "About Workbench",
                          f"Workbench {__version__}\nAn interpretability workbench for PyTorch "
                          "vision models.")

    def _present(self, presenting: bool) -> None:
        """Presentation mode gives the tab the whole width: the docks hide (View brings
        either back) and reappear as they were when the mode ends."""
        if presenting == self._presenting:
            return
        self._presenting = presenting
        docks = (self.inputs, self.model_dock)
        if presenting:
            self._docks_shown = [not dock.isHidden() for dock in docks]
            for dock in docks:
                dock.hide()
        else:
            for dock, shown in zip(docks, self._docks_shown, strict=True):
                dock.setVisible(shown)

    def _apply_theme(self) -> None:
        """Switch theme and font without changing the window's size (larger fonts must not
        grow it: the layouts fit the size the user chose)."""
        size = self.size()
        self._present(self.presentation_action.isChecked())
        apply_theme(QApplication.instance(), self.dark_action.isChecked(),
                    self.presentation_action.isChecked())
        if self.isVisible() and not (self.isMaximized() or self.isFullScreen()):
            QApplication.processEvents()
            self.resize(size)
            QTimer.singleShot(0, self, self._widen_model_dock)  # once the tree has its new font

    # ----------------------------------------------------------------- shutdown
    def _jobs_running(self) -> bool:
        return not (self.runner.is_idle() and self.io_runner.is_idle())

    def is_settled(self) -> bool:
        """True once startup ran and no job is pending or running on either runner."""
        return self.started and not self._jobs_running()

    def closeEvent(self, event):  # noqa: N802 - Qt override
        if not self._closed:
            self._closed = True
            self.sessions.close()  # the last autosave; the crash marker goes
            started = time.monotonic()
            if self._persist:  # a throwaway window (screenshot, benchmark) leaves them alone
                self._save()
            self.panel("Video").live.stop()  # its source thread, camera and recording
            for runner in (self.runner, self.io_runner):
                runner.cancel_all()
            self.fastpath.close()  # the compiler helper, if one runs
            self.compute.close()  # the cluster's client (and a local cluster), ≤ ~1 s
            for runner in (self.io_runner, self.runner):
                remaining = SHUTDOWN_TIMEOUT_S - (time.monotonic() - started)
                runner.shutdown(max(0.1, remaining))
            collector().release(self._jobs_running)
        super().closeEvent(event)
