"""The Predict tab's page for a detector or a segmenter: the model input with the boxes or
the class map, their controls, and the target the other tabs explain (DESIGN.md §11):
a click on a box, a table row, a pixel or a legend entry picks it; until the user picks,
the best detection or the largest non-background class's region is the target."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from workbench.io.palette import categorical, hex_to_rgb
from workbench.ui.tabs.predict.dense_jobs import dense_job
from workbench.ui.tabs.predict.detection_controls import DetectionControls
from workbench.ui.tabs.predict.segmentation_controls import SegmentationControls
from workbench.ui.widgets.control_column import ControlColumn
from workbench.ui.widgets.detection_overlay import DetectionOverlay, DrawnDetection
from workbench.ui.widgets.image_view import ImageView

DIMMED = 0.35  # the class map's opacity outside the target region, relative to inside


def is_background(name: str) -> bool:
    return "background" in name.lower() or name.lower() in ("bg", "void")


def class_map_rgba(class_map: np.ndarray, colors, region: np.ndarray | None) -> np.ndarray:
    """The class map in the classes' colours; outside ``region`` (when given) fainter."""
    table = np.array([hex_to_rgb(c) for c in colors], np.uint8)
    rgba = np.empty((*class_map.shape, 4), np.uint8)
    rgba[..., :3] = table[class_map]
    rgba[..., 3] = 255 if region is None else np.where(region, 255, round(255 * DIMMED))
    return rgba


class DensePage(QWidget):
    """``refresh(model, image)`` predicts; the result and the state's target are drawn."""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.model = self.detections = self.segmentation = self.picture = None
        self.view = ImageView(title="model input")
        self.overlay = DetectionOverlay(self.view)
        self.overlay.box_clicked.connect(self.pick_shown)
        self.overlay.pixel_clicked.connect(self._on_pixel)
        self.headline = QLabel("–")
        self.headline.setObjectName("denseHeadline")
        self.headline.setWordWrap(True)
        self.target_label = QLabel("")
        self.target_label.setObjectName("denseTarget")
        self.target_label.setWordWrap(True)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.boxes = DetectionControls()
        self.boxes.filter_changed.connect(self._on_filter)
        self.boxes.row_clicked.connect(self.pick_shown)
        self.regions = SegmentationControls()
        self.regions.opacity_changed.connect(self.view.overlay.setOpacity)
        self.regions.class_clicked.connect(self.pick_class)
        self.regions.draw_asked.connect(self.draw_region)
        self.controls = QStackedWidget()
        self.controls.addWidget(self.boxes)
        self.controls.addWidget(self.regions)
        side = QWidget()
        column = QVBoxLayout(side)
        for widget, stretch in ((self.headline, 0), (self.target_label, 0),
                                (self.controls, 1), (self.detail, 0)):
            column.addWidget(widget, stretch)
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(ControlColumn(side))
        splitter.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        state.target_changed.connect(self._on_target)

    # ----------------------------------------------------------------- compute
    def refresh(self, model, image) -> None:
        self.runner.submit(partial(dense_job, model, image), name="Predict", key="predict",
                           on_finished=partial(self._show, model, image),
                           on_error=self._on_error)

    def _on_error(self, message: str) -> None:
        self.headline.setText("–")
        self.detail.setText(message)
        self.state.error(message)

    def _show(self, model, image, result) -> None:
        if model is not self.state.model or image is not self.state.model_image():
            return  # a newer model or picture is on its way
        found, self.picture = result
        self.model = model
        self.colors = categorical(model.num_classes)
        self.view.set_image(self.picture)
        self.view.set_title(f"what {model.name} sees · {model.input_text()}")
        self.detail.setText(f"{self.state.input_name()} · {model.caption()}")
        if model.task == "detection":
            self.detections, self.segmentation = found, None
            self.controls.setCurrentWidget(self.boxes)
            self.view.overlay.clear()
            self.boxes.set_classes(model.labels, found.labels, self.colors)
        else:
            self.segmentation, self.detections = found, None
            self.controls.setCurrentWidget(self.regions)
            self.overlay.clear()
            self.regions.show_shares(found.shares(), model.labels, self.colors)
        self._draw()
        if self.state.target is None or self.state.target_is_default:
            self._set_default()

    # -------------------------------------------------------------- detections
    def shown(self):
        """The detections above the threshold and of the chosen class, best first."""
        found = self.detections
        keep = found.scores >= self.boxes.threshold()
        chosen = self.boxes.chosen_class()
        if chosen is not None:
            keep &= found.labels == chosen
        return found.subset(keep)

    def _on_filter(self) -> None:
        if self.detections is None:
            return
        self._draw()
        if self.state.target_is_default:
            self._set_default()

    def picked_index(self, shown) -> int | None:
        """The index among ``shown`` of the state's detection target."""
        target = self.state.target
        if shown is None or target is None or not hasattr(target, "box"):
            return None
        for i, (box, label) in enumerate(zip(shown.boxes, shown.labels, strict=True)):
            if int(label) == target.label and np.allclose(box, target.box, atol=1e-4):
                return i
        return None

    def _draw_detections(self) -> None:
        shown, names = self.shown(), self.model.labels
        picked = self.picked_index(shown)
        items = [DrawnDetection(tuple(float(v) for v in box), f"{names[int(label)]} · {score:.2f}",
                                self.colors[int(label)],
                                None if shown.masks is None else shown.masks[i],
                                None if shown.keypoints is None else shown.keypoints[i])
                 for i, (box, label, score) in enumerate(
                     zip(shown.boxes, shown.labels, shown.scores, strict=True))]
        self.overlay.set_detections(items, picked)
        self.boxes.show_rows(shown.as_rows(), self.colors, picked, len(self.detections))
        best = f" · best: {items[0].text}" if items else ""
        self.headline.setText(f"{len(items)} detection{'s' * (len(items) != 1)} ≥ "
                              f"{self.boxes.threshold():.2f}{best}")

    def pick_shown(self, index: int, default: bool = False) -> None:
        """Make shown detection ``index`` the target."""
        self._pick(self.shown(), index, default)

    def _pick(self, found, index: int, default: bool) -> None:
        from workbench.core.tasks.targets import DetectionTarget

        if not 0 <= index < len(found):
            return
        target = DetectionTarget(tuple(float(v) for v in found.boxes[index]),
                                 int(found.labels[index]), threshold=self.boxes.threshold())
        x0, y0, x1, y1 = (round(float(v)) for v in found.original_boxes()[index])
        words = (f"{self.model.label(target.label)} · {found.scores[index]:.2f} at "
                 f"({x0}, {y0})–({x1}, {y1})")  # the table's pixels: the original picture's
        if target != self.state.target:
            self.state.set_target(target, default, words)
        elif not default:
            self.state.target_is_default = False
            self._on_target(target)

    # ------------------------------------------------------------ segmentation
    def _draw_segmentation(self) -> None:
        seg, target = self.segmentation, self.state.target
        region = self.target_region(target) if target is not None else None
        self.view.overlay.setImage(class_map_rgba(seg.class_map, self.colors, region),
                                   autoLevels=False, levels=(0, 255))
        h, w = seg.class_map.shape
        self.view.overlay.setRect(0, 0, w, h)
        self.view.overlay.setOpacity(self.regions.current_opacity())
        self.regions.select(None if target is None else target.label)
        shares = seg.shares()
        largest = next(iter(shares.items()), None)
        self.headline.setText(f"{len(shares)} class{'es' * (len(shares) != 1)} present" + (
            f" · largest: {largest[0]} {largest[1]:.0%}" if largest else ""))

    def target_region(self, target) -> np.ndarray | None:
        if not hasattr(target, "mask"):
            return None
        if target.mask is not None:
            return np.asarray(target.mask, bool)
        return self.segmentation.class_map == target.label

    def pick_class(self, index: int, default: bool = False) -> None:
        """Make class ``index``'s predicted region the target."""
        from workbench.core.tasks.targets import RegionTarget

        if self.segmentation is None:
            return
        region = self.segmentation.class_map == int(index)
        if region.any():
            words = f"{self.model.label(int(index))} over its predicted region"
            self.state.set_target(RegionTarget(int(index), region), default, words)

    def _on_pixel(self, x: float, y: float) -> None:
        if self.segmentation is not None:
            self.pick_class(int(self.segmentation.class_map[int(y), int(x)]))

    def draw_region(self) -> None:
        """Paint a region of the picked class (its predicted region to start from)."""
        from workbench.core.tasks.targets import RegionTarget
        from workbench.ui.tabs.predict.region_dialog import RegionDialog

        target = self.state.target
        if self.segmentation is None or target is None:
            self.state.error("Pick a class first: click it in the picture or the legend")
            return
        dialog = RegionDialog(self.picture, self.target_region(target),
                              self.model.label(target.label), self)
        self._dialog = dialog  # tests reach it while it is open
        if dialog.exec() == QDialog.DialogCode.Accepted:
            mask = dialog.region()
            if mask.any():
                self.state.set_target(RegionTarget(target.label, mask))
            else:
                self.state.error("The painted region is empty: the target did not change")

    # ------------------------------------------------------------------ target
    def _set_default(self) -> None:
        """The best shown detection (none shown: the best at any score), or the largest
        class that is not background (else the largest)."""
        if self.detections is not None:
            shown = self.shown()
            self._pick(shown if len(shown) else self.detections, 0, default=True)
            return
        shares = self.segmentation.shares()
        names = [n for n in shares if not is_background(n)] or list(shares)
        for name in names:
            index = self.model.labels.index(name)
            if (self.segmentation.class_map == index).any():
                self.pick_class(index, default=True)
                return

    def _draw(self) -> None:
        if self.detections is not None:
            self._draw_detections()
        elif self.segmentation is not None:
            self._draw_segmentation()
        self._show_target_text()

    def _on_target(self, _target) -> None:
        if self.model is not None and self.model is self.state.model:
            self._draw()

    def _show_target_text(self) -> None:
        text = self.state.target_text()
        self.target_label.setText(f"Target of Attribution, Occlusion, Adversarial: {text}"
                                  if text else "")

    def caption(self) -> str:
        model = self.state.model
        if model is None or self.model is not model:
            return ""
        return (f"{self.state.input_name()}: {model.name}, {self.headline.text()}; "
                f"target {self.state.target_text()}; {model.source}")

    def set_headline_font(self, font) -> None:
        """The classifier page's headline font, a little smaller: it shares a column."""
        font = type(font)(font)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        self.headline.setFont(font)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignLeft)
