"""Widgets shared by every tab and every export: views, colour bar, legend, forms, charts."""
