"""Predict on one image versus the bare model's forward pass (issue 2: ≤ 1.2×).

``ours`` is what the Predict panel's job does: preprocess the loaded photo
(crop, antialiased resize), forward, softmax, top-k, back to numpy.  The
limit is the bare network's forward on an already-normalized tensor.
"""

from __future__ import annotations

import torch

from benchmarks.common import Row, interleaved


def run(device: str = "cpu", rounds: int = 40, model_name: str = "efficientnet_lite0"):
    from workbench.core.models import load_model
    from workbench.core.predict import predict_image
    from workbench.io.images import load_image
    from workbench.io.samples import sample_path

    model = load_model(model_name, device=device)
    image = load_image(sample_path("chelsea"))
    x = model.module.normalize(torch.rand(1, 3, *model.input_size, device=device))
    net = model.module.net

    def bare():
        with torch.inference_mode():
            net(x)

    ours, limit = interleaved(lambda: predict_image(model, image, 5), bare, rounds)
    return [Row(f"predict 1 image ({model_name})", ours, limit, "target ≤ 1.2×")]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
