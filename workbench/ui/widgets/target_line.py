"""One line saying which detection or region a tab explains for a dense model
(``AppState.target_text``); hidden for a classifier."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

HINT = "(click a box in Predict to change)"
REGION_HINT = "(click a region in Predict to change)"


class TargetLine(QLabel):
    """Follows the state's model and target; ``changed`` callbacks run after it updates."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("denseTargetLine")
        self.setWordWrap(True)
        self.state = state
        state.model_changed.connect(self.update_text)
        state.target_changed.connect(self.update_text)
        self.update_text()

    def update_text(self, *_args) -> None:
        text = self.state.target_text()
        model = self.state.model
        hint = HINT if model is not None and model.task == "detection" else REGION_HINT
        self.setText(f"Target: {text} {hint}" if text else "")
        self.setToolTip("the detection or region this tab explains; pick another one in the "
                        "Predict tab" if text else "")
        self.setVisible(bool(text))
