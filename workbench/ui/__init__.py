"""Qt widgets: main window, docks, one file per panel."""
