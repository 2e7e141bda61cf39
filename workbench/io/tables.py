"""CSV files, written atomically."""

from __future__ import annotations

import csv
import io

from workbench.io.atomic import write_bytes_atomic


def write_csv(path, header, rows, overwrite: bool = True):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return write_bytes_atomic(path, buffer.getvalue().encode("utf-8", "surrogateescape"),
                              overwrite)
