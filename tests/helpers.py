"""Small helpers shared by tests in several folders."""

from __future__ import annotations

import threading
import time

from workbench.core.jobs import PlainContext


class CancelAfter(PlainContext):
    """A context that cancels itself after ``n`` checks."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def check(self):
        self.left -= 1
        if self.left < 0:
            self.cancel()
        super().check()


def endless_job():
    """``(job, started)``: a job that runs until cancelled, and an event set once it runs."""
    started = threading.Event()

    def job(ctx):
        started.set()
        while True:
            ctx.check()
            time.sleep(0.005)

    return job, started


def pickle_from_code(tmp_path, monkeypatch, module: str, source: str, class_name: str,
                     folder: str = "src", file: str = "whole.pt"):
    """``(code folder, checkpoint path)``: ``source`` written as ``module`` in a folder, an
    instance of its ``class_name`` pickled whole, then the folder and the module forgotten
    again — so loading the file needs the folder (``--code``), as a user's own code would."""
    import importlib
    import sys
    import textwrap

    import torch

    code = tmp_path / folder
    code.mkdir()
    (code / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.setattr(sys, "path", [str(code), *sys.path])
    net = getattr(importlib.import_module(module), class_name)()
    path = tmp_path / file
    torch.save(net, path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(code)])
    monkeypatch.delitem(sys.modules, module)
    return code, path
