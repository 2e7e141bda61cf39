"""The Model inspector's core (issue 15): per-layer shapes, parameters, MACs and receptive
fields of a loaded model, and the arithmetic of one convolution.  Never imports Qt.

The names load on first use: the convolution calculator needs only numpy, so the window
can show it without importing torch.
"""

from importlib import import_module

_WHERE = {"ConvAnswer": "conv", "conv_answer": "conv", "conv_matrix": "conv",
          "LayerRow": "table", "ModelTable": "table", "ReceptiveField": "table",
          "effective_receptive_field": "table", "inspect_model": "table",
          "receptive_box": "table"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
