"""User-facing error types shared by every layer.

A :class:`WorkbenchError` carries a message written for the user: one line that
names the file or the value and the problem.  The GUI shows it in the status
bar, the CLI prints it to stderr and exits non-zero; neither shows a traceback.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """An error caused by user input or the environment, with a readable message."""


class ImageLoadError(WorkbenchError):
    """An image file could not be opened, decoded, or is unsafe to decode."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"Cannot open image '{self.path}': {problem}")


class ModelLoadError(WorkbenchError):
    """A model or checkpoint could not be built or loaded."""


class WeightsNotCachedError(ModelLoadError):
    """Pretrained weights must be downloaded first (the user has to agree)."""


class UntrustedPickleError(ModelLoadError):
    """A checkpoint is a pickled object; loading it runs code unless the user trusts it."""


class ArchitectureNeededError(ModelLoadError):
    """A state dict was given without the architecture it belongs to."""


class CodeNeededError(ModelLoadError):
    """A trusted pickled model's class lives in code that is not on the import path."""


class InputError(WorkbenchError):
    """An input tensor or parameter is not usable (wrong shape, NaN, out of range)."""


class Cancelled(Exception):
    """Raised inside a job by :meth:`JobContext.check` when the user cancelled it."""
