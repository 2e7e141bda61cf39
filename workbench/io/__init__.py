"""Reading and writing images, videos and exports.  Never imports Qt (DESIGN.md §1)."""
