"""Worker jobs of the Feature visualization tab."""

from __future__ import annotations

PREVIEW_SECONDS = 0.08  # a live frame at most every 80 ms (≥ 10 frames per second)


def featviz_job(model, objective, config, steps, batch, size, seed, init_image, state, ctx):
    """Run (or resume, when ``state`` holds an image) the optimization; frames go to partial."""
    import torch

    from workbench.core.featureviz import visualize

    init = None
    if init_image is not None and "image" not in state:
        from workbench.core.preprocess import to_pixels

        init = to_pixels(init_image, (size, size), model.device).expand(batch, -1, -1, -1)
        init = init.contiguous().to(torch.float32)
    last = None
    for last in visualize(model, objective, config=config, steps=steps, batch=batch, size=size,
                          seed=seed, init=init, snapshot_seconds=PREVIEW_SECONDS, ctx=ctx,
                          state=state):
        ctx.partial(last)
        ctx.progress(min(1.0, last.step / max(1, state.get("target_steps", steps))),
                     f"Step {last.step}")
    return last


def channels_job(model, image, layer, ctx):
    from workbench.core.featureviz.dataset_examples import channel_activations

    return channel_activations(model, image, layer)


def examples_job(model, images, layer, channel, ctx):
    from workbench.core.featureviz.dataset_examples import top_examples

    return top_examples(model, images, layer, channel, k=9, ctx=ctx)


def load_images_job(paths, ctx):
    """Decode images for dataset examples; unreadable files are skipped and named."""
    from workbench.errors import ImageLoadError
    from workbench.io.images import expand_paths, load_image

    images, names, skipped = [], [], []
    files = expand_paths(paths)
    for done, path in enumerate(files):
        ctx.check()
        try:
            images.append(load_image(path, max_side=512))
            names.append(str(path))
        except ImageLoadError as exc:
            skipped.append(str(exc))
        ctx.progress((done + 1) / max(1, len(files)), "Reading images")
    return images, names, skipped
