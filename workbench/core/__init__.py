"""Numerics: models, methods and jobs.  Never imports Qt (see DESIGN.md §1)."""
