"""What every task tab shares: compute only when visible, refresh when shown, the views /
controls layout with a column that fits its contents, the theme, shortcuts and figure
exports."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from workbench.ui.freeze import freeze
from workbench.ui.theme import style_all_plots, theme_signals
from workbench.ui.widgets.control_column import ControlColumn

RUN_KEYS = "Ctrl+Return"
STOP_KEYS = "Esc"
EXPORT_KEYS = "Ctrl+Shift+E"
FIGURE_FILTER = "PNG image (*.png);;SVG image (*.svg)"


class TaskPanel(QWidget):
    """A central tab.  Subclasses implement :meth:`refresh_now` and call
    :meth:`request_refresh` when their inputs change; hidden tabs wait until shown."""

    title = ""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self._dirty = False
        self._column: ControlColumn | None = None
        self.caption_in_figures = True  # the window's File menu switches it
        theme_signals.changed.connect(self._on_theme)
        freeze.changed.connect(self._on_freeze)

    def request_refresh(self, *_args) -> None:
        """Recompute now if shown, else when shown; while results are frozen (View →
        Freeze results) only remember that they are out of date."""
        if self.isVisible() and not freeze.frozen:
            self._dirty = False
            self.refresh_now()
        else:
            self._dirty = True

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty and not freeze.frozen:
            self._dirty = False
            QTimer.singleShot(0, self.refresh_now)

    def _on_freeze(self, frozen: bool) -> None:
        if not frozen and self._dirty and self.isVisible():
            self._dirty = False
            self.refresh_now()

    def refresh_now(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ layout
    def lay_out(self, views: QWidget, controls: QWidget, host: QWidget | None = None
                ) -> ControlColumn:
        """The tab's layout (on ``host``, the tab itself by default): its views on the left,
        its controls in a :class:`ControlColumn` on the right; the views take the rest (a
        handle between them can be dragged)."""
        column = ControlColumn(controls)
        self._column = column
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(views)
        splitter.addWidget(column)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        layout = QVBoxLayout(host or self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        return column

    # ------------------------------------------------------------------- theme
    def _on_theme(self, theme) -> None:
        style_all_plots(self)
        self.on_theme(theme)

    def on_theme(self, theme) -> None:
        """Subclasses redraw what they painted themselves."""

    # --------------------------------------------------------------- shortcuts
    def add_shortcuts(self, run=None, stop=None, export=None) -> None:
        """Ctrl+Return runs, Esc stops, Ctrl+Shift+E exports the figure — in this tab only;
        the buttons' tooltips name the keys."""
        for keys, button, what in ((RUN_KEYS, run, "Run"), (STOP_KEYS, stop, "Stop"),
                                   (EXPORT_KEYS, export, "Export")):
            if button is None:
                continue
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setWhatsThis(what)  # what Help → Shortcuts lists
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(button.click)
            tip = button.toolTip()
            button.setToolTip((tip + "\n" if tip else "") + f"Shortcut: {keys}")

    # ------------------------------------------------------------------ export
    def ask_figure_path(self, default: str) -> str:
        path, chosen = QFileDialog.getSaveFileName(self, "Export figure", default, FIGURE_FILTER)
        if path and not path.lower().endswith((".png", ".svg")):
            path += ".svg" if "svg" in chosen.lower() else ".png"
        return path

    def write_figure(self, path: str, panels, title: str, record: dict) -> str:
        """Render ``panels`` (``FigurePanel``) under ``title`` with the provenance ``record``
        as the caption (in the picture when asked, always in the file's metadata)."""
        from workbench.core.provenance import caption
        from workbench.io.figure import metadata_of, render_figure, save_figure
        from workbench.ui.theme import current_theme

        text = caption(record) if record else ""
        figure = render_figure(panels, title, text if self.caption_in_figures else "",
                               dark=current_theme().dark)
        save_figure(path, figure, metadata_of(title, text, record))
        self.state.info(f"Saved {path}")
        return path

    def caption(self) -> str:
        return ""
