"""The Embeddings tab's exports: the map as a figure (PNG / SVG with title, legend or colour
bar, provenance), the points as CSV, and a lasso's paths."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog


class MapExports:
    """Mixed into the panel: reads ``map_data``, ``map``, ``legend``, ``colorbar``."""

    def export_figure(self, path: str | None = None) -> str | None:
        from workbench.core.provenance import provenance
        from workbench.io.figure import FigurePanel
        from workbench.io.palette import hex_to_rgb
        from workbench.io.scatter import render_scatter
        from workbench.ui.theme import current_theme

        data = self.map_data
        if data is None:
            self.state.error("Build a map first")
            return None
        path = path or self.ask_figure_path("embedding.png")
        if not path:
            return None
        colours = np.zeros((len(data.coords), 3), np.uint8)
        for item_members, (_i, _name, colour, _n) in zip(self.map.members, self.map.entries,
                                                          strict=True):
            colours[item_members] = hex_to_rgb(colour)
        picture = render_scatter(data.coords, aspect=self.map.view_aspect(), colours=colours,
                                 dark=current_theme().dark)
        scale = self.colorbar.scale if self.colorbar.isVisible() else None
        panel = FigurePanel(picture, "", scale, self.legend.figure_entries(),
                            self.legend.note.text())
        title = (f"{self.reducers[data.method].title} of {data.layer} features: "
                 f"{len(data.coords)} points, {self.status.text().rsplit(' · ', 1)[-1]}")
        record = provenance(self.state.model, self.reducers[data.method].title, data.layer,
                            self.form.values(), dataset=self.source.currentText(),
                            points=len(data.coords))
        return self.write_figure(path, [panel], title, record)

    def demo(self) -> None:
        """For screenshots and lessons: the digits, mapped with t-SNE."""
        self.set_source("digits")
        self.method.setCurrentIndex(self.method.findData("tsne"))
        self.build()

    def export_csv(self, path: str | None = None) -> str | None:
        from workbench.io.tables import write_csv

        if self.map_data is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export coordinates", "embedding.csv",
                                                  "CSV (*.csv)")
        if not path:
            return None
        data = self.map_data
        names = data.label_names
        rows = [(f"{x:.6g}", f"{y:.6g}", int(label),
                 names[label] if 0 <= label < len(names) else "", name)
                for (x, y), label, name in zip(data.coords, data.labels, data.names, strict=True)]
        write_csv(path, ("x", "y", "label", "label_name", "path"), rows)
        self.state.info(f"Saved {path}")
        return path

    def export_selection(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import write_bytes_atomic

        if self.map_data is None or not len(self.selection):
            self.state.error("Lasso a region first (Shift-click around it)")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export selected paths",
                                                  "selection.txt", "Text (*.txt)")
        if not path:
            return None
        lines = "\n".join(self.map_data.names[i] for i in self.selection) + "\n"
        write_bytes_atomic(path, lines.encode("utf-8", "surrogateescape"))
        return path
