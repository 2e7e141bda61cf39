"""One package per task tab: its panel (layout and wiring), its views and its jobs."""
