"""What the user sees of the compute setting (the controller is :mod:`workbench.ui.compute`):
the *Settings → Compute…* dialog, the questions (connect to a saved scheduler at start-up?
the scheduler is lost: continue on this computer?) and the status bar's words.

The dialog only collects the choice and shows how connecting goes; the controller connects
off the GUI thread and calls back :meth:`ComputeDialog.connecting`,
:meth:`ComputeDialog.failed` or ``accept()``.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from workbench.ui.theme import current_theme, message_colors

THIS, SCHEDULER, LOCAL = "this", "scheduler", "local"
NOTE_CHARS = 60  # the width of the wrapped texts, in average characters
LOCAL_PREFIX = "local:"  # as in workbench.core.remote.cluster, imported only once used
TRUST_NOTE = (
    "tls:// addresses use Dask's TLS configuration (distributed.comm.tls: CA file, "
    "certificate and key). A cluster is a trust boundary: Dask moves pickled functions, so "
    "connect only to a scheduler you trust."
)


def ask_connect(window, address: str) -> bool:
    """Ask once whether to connect to the saved scheduler (default No: a cluster is a trust
    boundary); ``$WORKBENCH_CONNECT`` answers for tests."""
    answer = os.environ.get("WORKBENCH_CONNECT", "").strip().lower()
    if answer in ("yes", "no"):
        return answer == "yes"
    choice = QMessageBox.question(
        window, "Connect to the cluster?",
        f"Connect to {address}?\n\nLast time Workbench ran its jobs on this Dask "
        "scheduler. Dask moves pickled functions: connect only to a scheduler you trust. "
        "No runs everything on this computer.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return choice == QMessageBox.StandardButton.Yes


def place_name(address: str) -> str:
    """``tcp://host:8786`` as it is, ``local:2`` as "a local cluster of 2 workers"."""
    if address.startswith(LOCAL_PREFIX):
        count = address[len(LOCAL_PREFIX):]
        return f"a local cluster of {count} worker{'' if count == '1' else 's'}"
    return address


def describe_worker(row) -> str:
    """``w0: cpu, 1 thread, 4.0 GiB`` for one :class:`~workbench.core.remote.cluster.WorkerInfo`."""
    name = f"w{row.name}" if row.name.isdigit() else row.name
    memory = f"{row.memory_bytes / 2**30:.1f} GiB" if row.memory_bytes else "? GiB"
    devices = ", ".join(d for d in row.devices if d != "cpu" or len(row.devices) == 1) or "cpu"
    return f"{name}: {devices}, {row.threads} thread{'s' if row.threads != 1 else ''}, {memory}"


def where_lines(client, address: str) -> tuple[str, str]:
    """The status bar's line and its tooltip for a connected ``client`` (blocking: run it
    off the GUI thread)."""
    from workbench.core.remote.cluster import workers

    rows = workers(client)
    scheduler = client.scheduler.address if client.scheduler else address
    local = address.startswith(LOCAL_PREFIX)
    name = "Local cluster" if local else f"Cluster {scheduler}"
    title = f"Local cluster (scheduler {scheduler})" if local else name
    if not rows:
        return f"{name}: no workers yet", f"{title}\nno workers have joined yet"
    rows = sorted(rows, key=lambda row: (not row.name.isdigit(), int(row.name)
                                         if row.name.isdigit() else 0, row.name))
    count = f"{len(rows)} worker{'s' if len(rows) != 1 else ''}"
    described = [describe_worker(row) for row in rows]
    return (f"{name}: {count} — " + "; ".join(described),
            "\n".join([f"{title}: {count}", *described]))


def lost_box(window, text: str, here, again) -> QMessageBox:
    """The scheduler is lost: "Continue on this computer" (``here()``, the default) or
    "Reconnect" (``again()``); window-modal, never blocking."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Cluster lost", f"{text}.",
                      QMessageBox.StandardButton.NoButton, window)
    box.setInformativeText("Jobs cannot run there. Continue on this computer, or try to "
                           "reconnect?")
    stay = box.addButton("Continue on this computer", QMessageBox.ButtonRole.AcceptRole)
    retry = box.addButton("Reconnect", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    stay.clicked.connect(lambda: here())
    retry.clicked.connect(lambda: again())
    box.open()
    return box


class ComputeDialog(QDialog):
    """Three choices; ``chosen(address)`` asks the controller to switch (``""`` is this
    computer, ``local:N`` a local cluster, else a scheduler address)."""

    chosen = Signal(str)
    continue_here = Signal()

    def __init__(self, parent, address: str = "", scheduler: str = "", workers: int = 2,
                 device: str = "cpu"):
        super().__init__(parent)
        self.setObjectName("computeDialog")
        self.setWindowTitle("Compute — where jobs run")
        self.this = QRadioButton(f"This computer ({device})")
        self.scheduler = QRadioButton("Dask scheduler at")
        self.local = QRadioButton("Local cluster with")
        self.group = QButtonGroup(self)
        for button in (self.this, self.scheduler, self.local):
            self.group.addButton(button)
        self.address = QLineEdit(scheduler)
        self.address.setObjectName("schedulerAddress")
        self.address.setPlaceholderText("tcp://host:8786")
        self.address.setMinimumWidth(self.fontMetrics().averageCharWidth() * 34)
        self.address.textEdited.connect(lambda _t: self.scheduler.setChecked(True))
        self.address.returnPressed.connect(self._ok)
        self.workers = QSpinBox()
        self.workers.setObjectName("localWorkers")
        self.workers.setRange(1, max(1, 4 * (os.cpu_count() or 1)))
        self.workers.setValue(workers)
        self.workers.valueChanged.connect(lambda _v: self.local.setChecked(True))
        self.note = QLabel(TRUST_NOTE)
        self.note.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: connecting takes at most a few seconds
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.message = QLabel("")
        self.message.setObjectName("computeMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.here = QPushButton("Continue on this computer")
        self.here.setObjectName("continueHere")
        self.buttons.addButton(self.here, QDialogButtonBox.ButtonRole.ActionRole)
        self.here.hide()  # only after a failure (adding it to the box shows it)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.here.clicked.connect(self.continue_here.emit)
        self.group.buttonToggled.connect(lambda *_: self._update())
        grid = QGridLayout()
        grid.addWidget(self.this, 0, 0, 1, 3)
        grid.addWidget(self.scheduler, 1, 0)
        grid.addWidget(self.address, 1, 1, 1, 2)
        grid.addWidget(self.note, 2, 1, 1, 2)
        grid.addWidget(self.local, 3, 0)
        grid.addWidget(self.workers, 3, 1)
        grid.addWidget(QLabel("worker processes on 127.0.0.1"), 3, 2)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with a message
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._fit_text()
        self.set_address(address)
        self._update()

    def _fit_text(self) -> None:
        """Wrapped labels get the height their text needs at a fixed width (a layout
        alone cuts them), again whenever the font changes (presentation mode)."""
        width = self.fontMetrics().averageCharWidth() * NOTE_CHARS
        for label in (self.note, self.message):
            label.setMinimumWidth(width)
            label.setMinimumHeight(label.heightForWidth(width) if label.text() else 0)

    def changeEvent(self, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FontChange:
            self._fit_text()
        super().changeEvent(event)

    # ------------------------------------------------------------------ choice
    def set_address(self, address: str) -> None:
        """Select the choice ``address`` stands for."""
        if address.startswith(LOCAL_PREFIX):
            self.local.setChecked(True)
            count = address[len(LOCAL_PREFIX):]
            if count.isdigit():
                self.workers.setValue(int(count))
        elif address:
            self.scheduler.setChecked(True)
            self.address.setText(address)
        else:
            self.this.setChecked(True)

    def choice(self) -> str:
        if self.scheduler.isChecked():
            return SCHEDULER
        return LOCAL if self.local.isChecked() else THIS

    def chosen_address(self) -> str:
        """``""``, ``local:N`` or the scheduler address as typed (stripped)."""
        choice = self.choice()
        if choice == SCHEDULER:
            return self.address.text().strip()
        return f"{LOCAL_PREFIX}{self.workers.value()}" if choice == LOCAL else ""

    def _update(self) -> None:
        self.ok.setText("Use this computer" if self.choice() == THIS else "Connect")

    def _ok(self) -> None:
        if self.choice() == SCHEDULER and not self.address.text().strip():
            self.failed("Type the scheduler's address, e.g. tcp://host:8786", offer_here=False)
            return
        self.chosen.emit(self.chosen_address())

    # --------------------------------------------------------------- progress
    def connecting(self, text: str) -> None:
        """While the controller connects: a busy bar and the choices locked."""
        self._show(text, error=False)
        self.progress.show()
        self.here.hide()
        for widget in (self.this, self.scheduler, self.local, self.address, self.workers,
                       self.ok):
            widget.setEnabled(False)

    def failed(self, message: str, offer_here: bool = True) -> None:
        """The one-line error, the choices unlocked, and "Continue on this computer"."""
        self.progress.hide()
        self._show(message, error=True)
        self.here.setVisible(offer_here)
        for widget in (self.this, self.scheduler, self.local, self.address, self.workers,
                       self.ok):
            widget.setEnabled(True)

    def _show(self, text: str, error: bool) -> None:
        palette = QApplication.palette()
        if error:
            palette.setColor(QPalette.ColorRole.WindowText,
                             message_colors(current_theme().dark)["error"])
        self.message.setPalette(palette)
        self.message.setText(text[:1].upper() + text[1:])
        self.message.show()
        self._fit_text()
        self.adjustSize()
