"""The window's fast path (issue 20): compile the model in the background, say when it is
ready, and let the user turn it off.

When a model is loaded the worker looks for its compiled package (a fraction of a
second when an earlier session built it).  When there is none, a helper process builds it
at a lower priority (:mod:`workbench.core.fastpath.helper`: the compiler never runs in this
process, so the window does not stall) while every job runs eagerly; when the helper is
done the worker loads the package and checks it against eager.  The status bar says where
it stands ("Fast path ready", "Compiling… 40 %", "Eager" with the reason in the tooltip);
*Settings → Compile models* turns it off, *Settings → Compiled precision* picks float32,
TF32 (CUDA) or bfloat16 (its measured accuracy cost is in the tooltip).
"""

from __future__ import annotations

import functools
import json

from PySide6.QtCore import QObject, QProcess
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QPushButton

from workbench.ui.settings import read_bool

SETTING = "fastpath"
PRECISION_SETTING = "fastpath_precision"
PRECISIONS = (("float32", "float32 (exact)"), ("tf32", "TF32 (CUDA only, faster matmuls)"),
              ("bfloat16", "bfloat16 (faster on recent hardware, less exact)"))
KILL_WAIT_MS = 1000


def look_up(model, precision: str, may_build: bool, ctx):
    """Worker job: load ``model``'s package if one is built; ``(state, helper request or
    None, facts)``."""
    from workbench.core import fastpath
    from workbench.core.fastpath import helper

    state = fastpath.prepare(model, ctx, build_missing=False, precision=precision,
                             lock_budget_ms=fastpath.WINDOW_LOCK_BUDGET_MS)
    request = helper.request(model, precision) if (
        state == fastpath.NOT_BUILT and may_build) else None
    return state, request, dict(model.extras.get(fastpath.FACTS_KEY) or {})


def drop(model, _ctx):
    from workbench.core import fastpath

    fastpath.drop(model)


def describe(state: str, facts: dict) -> tuple[str, str]:
    """Status-bar text and tooltip for a prepared state."""
    if state == "ready":
        lines = ["Forward-only jobs (predict, occlusion, Score-CAM, deletion / insertion, "
                 "video frames, embeddings, attack evaluation) run compiled code, checked "
                 "against eager on this model."]
        if "build_s" in facts:
            lines.append(f"Compiled in {facts['build_s']:.0f} s (kept on disk for next time).")
        if "logit_diff" in facts:
            lines.append(f"Largest logit difference from eager: {facts['logit_diff']:.1e} "
                         f"relative; top-1 kept on {facts.get('top1_agree', 0)} of "
                         f"{facts.get('probes', 0)} probe images.")
        return "Fast path ready", "\n".join(lines)
    if state == "off":
        return "Eager", "The fast path is off (Settings → Compile models)."
    reason = state.removeprefix("eager: ")
    return "Eager", reason[:1].upper() + reason[1:]


class FastPath(QObject):
    """Owns the helper process and the status-bar button; follows the loaded model."""

    def __init__(self, window, active: bool = True):
        super().__init__(window)
        self.active = active  # False: a screenshot's or a benchmark's window compiles nothing
        self.window, self.runner, self.settings = window, window.runner, window.settings
        self.model = None
        self.process: QProcess | None = None
        self.button = QPushButton("")
        self.button.setObjectName("fastPath")
        self.button.setFlat(True)
        self.button.clicked.connect(self._explain)
        window.statusBar().addPermanentWidget(self.button)
        self.button.hide()
        self.tooltip = ""
        window.state.model_changed.connect(self.follow)

    # ----------------------------------------------------------------- settings
    def install_menu(self, menu) -> None:
        from workbench.core.compile_switch import enabled_by_env

        self.action = QAction("Compile &models (fast path for forward-only jobs)", self)
        self.action.setCheckable(True)
        self.action.setChecked(enabled_by_env() and read_bool(self.settings, SETTING, True))
        self.action.setEnabled(enabled_by_env())  # WORKBENCH_COMPILE=0 wins
        self.action.toggled.connect(self._toggled)
        menu.addAction(self.action)
        precision_menu = menu.addMenu("Compiled &precision")
        self.precision_group = QActionGroup(self)
        chosen = str(self.settings.value(PRECISION_SETTING, "float32"))
        for value, text in PRECISIONS:
            item = precision_menu.addAction(text)
            item.setCheckable(True)
            item.setData(value)
            item.setChecked(value == chosen)
            self.precision_group.addAction(item)
        self.precision_group.triggered.connect(self._precision_chosen)

    def enabled(self) -> bool:
        return self.action.isChecked()

    def precision(self) -> str:
        checked = self.precision_group.checkedAction()
        return checked.data() if checked is not None else "float32"

    def _toggled(self, on: bool) -> None:
        self.settings.setValue(SETTING, on)
        if not on and self.model is not None:
            self._stop_helper()
            self.runner.submit(functools.partial(drop, self.model), name="Fast path off",
                               key="fastpath")
            self.show(*describe("off", {}))
        else:
            self.follow(self.model)

    def _precision_chosen(self, action) -> None:
        self.settings.setValue(PRECISION_SETTING, action.data())
        self.follow(self.model)

    # ----------------------------------------------------------------- the model
    def follow(self, model) -> None:
        """A new model (or ``None``): stop building for the old one, start for this one."""
        self._stop_helper()
        self.model = model
        if model is None or not self.active:
            self.button.hide()
            return
        if not self.enabled():
            self.show(*describe("off", {}))
            return
        if self.runner.backend() is not None:
            self.show("Eager", "Jobs run on the cluster, eagerly there.")
            return
        self._look_up(model, may_build=True)

    def _look_up(self, model, may_build: bool) -> None:
        self.show("Fast path…", "Looking for this model's compiled code.")
        self.runner.submit(
            functools.partial(look_up, model, self.precision(), may_build),
            name="Fast path", key="fastpath",
            on_finished=lambda result, m=model: self._looked_up(m, *result),
            on_error=lambda message: self.show("Eager", message))

    def _looked_up(self, model, state: str, request: bytes | None, facts: dict) -> None:
        if model is not self.model:
            return  # another model since
        if request is not None:
            self._start_helper(model, request)
            return
        self.show(*describe(state, facts))
        if state == "ready":
            self.window.state.message.emit(
                f"Fast path ready: {model.name} runs compiled code for forward-only jobs", False)

    # ----------------------------------------------------------------- the helper
    def _start_helper(self, model, request: bytes) -> None:
        from workbench.core.fastpath import helper

        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.readyReadStandardOutput.connect(lambda p=process: self._read(p))
        process.finished.connect(lambda code, _status, p=process, m=model:
                                 self._helper_done(p, m, code))
        program, *arguments = helper.command()
        self.process, self.record, self.helper_error = process, None, ""
        process.start(program, arguments)
        process.write(request)
        process.closeWriteChannel()
        self.show("Compiling…", "Building this model's compiled code in a helper process "
                  "(once; kept on disk). Jobs run eagerly meanwhile.")

    def _read(self, process: QProcess) -> None:
        while process.canReadLine():
            try:
                message = json.loads(bytes(process.readLine()).decode())
            except ValueError:
                continue
            if "progress" in message and process is self.process:
                self.button.setText(f"Compiling… {100 * message['progress']:.0f} %")
            self.record = message.get("record", self.record)
            self.helper_error = message.get("error", self.helper_error)

    def _helper_done(self, process: QProcess, model, code: int) -> None:
        if process is not self.process:
            return  # stopped on purpose
        self._read(process)
        self.process = None
        process.deleteLater()
        record = self.record or {"state": "eager: compilation failed: " + (
            self.helper_error or f"the compiler helper stopped (exit code {code})")}
        if model is not self.model:
            return
        if record.get("state") == "ready":
            self._look_up(model, may_build=False)
            return
        self.show(*describe(record["state"], record))
        self.window.state.message.emit(f"{model.name} runs eagerly: "
                                       f"{record['state'].removeprefix('eager: ')}", False)

    def _stop_helper(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.waitForFinished(KILL_WAIT_MS)
            process.deleteLater()

    def close(self) -> None:
        self._stop_helper()

    # ----------------------------------------------------------------- showing
    def show(self, text: str, tooltip: str) -> None:
        self.button.setText(text)
        self.tooltip = tooltip
        self.button.setToolTip(tooltip + "\n\nSettings → Compile models turns it off")
        self.button.show()

    def _explain(self) -> None:
        self.window.state.message.emit(f"{self.button.text()}: {self.tooltip}", False)
