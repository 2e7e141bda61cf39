"""Lessons 7–12: maps of the digits, feature visualization and DeepDream, FGSM, the
shipped adversarial patch and the convolution quiz — each set up through the panels'
own widgets and public methods, run, and summed up in the Lesson dock."""

from __future__ import annotations

from functools import partial

import numpy as np

from workbench.ui.lessons.setups import IMAGE_MODEL


# ------------------------------------------------------------ 7 and 8. maps of the digits
def digit_map(ctl, params, method: str, form: dict) -> None:
    panel = ctl.window.panel("Embeddings")

    def build():
        ctl.window.tabs.setCurrentWidget(panel)
        panel.set_source("digits")
        panel.method.setCurrentIndex(panel.method.findData(method))
        for name, key in form.items():
            panel.form.editors[name].setValue(params[key])
        panel.colour_by.setCurrentText("label")
        panel.map_data = None
        panel.build()
        ctl.steps.when(lambda: panel.map_data is not None, shown)

    def shown():
        data = panel.map_data
        ctl.result(f"{len(data.coords)} digits mapped to 2-D by "
                   f"{panel.method.currentText()} from {panel.layer.currentData()}, one "
                   f"colour per class ({len(panel.map.groups)} classes): the digits "
                   "group by class. Hover a point to see it.")

    ctl.window.tabs.setCurrentWidget(panel)
    ctl.steps.open_digits(build)


def tsne_digits(ctl, params) -> None:
    digit_map(ctl, params, "tsne", {"iterations": "iterations"})


def autoencoder_digits(ctl, params) -> None:
    digit_map(ctl, params, "autoencoder", {"epochs": "epochs"})


# ------------------------------------------------------------ 9. feature visualization
def feature_visualization(ctl, params) -> None:
    panel = ctl.window.panel("Feature visualization")

    def optimize(which, kind, layer, start, steps, channel=None):
        """Set the tab's objective as a user would, run it, show the result when done."""
        panel.kind.setCurrentText(kind)
        panel.choose_layer(layer)
        if channel is not None:
            panel.update_channel_range()
            panel.channel.setValue(channel)
        panel.start_from.setCurrentText(start)
        panel.steps.setValue(steps)
        panel.snapshot = None
        panel.run()
        ctl.steps.when(lambda: panel.snapshot is not None and not panel._running,
                       lambda: shown(which))

    def run():
        optimize("channel", "channel", params["layer"], "noise", params["steps"],
                 params["channel"])

    def dream():
        optimize("dream", "deepdream", params["dream_layer"], "current image",
                 params["dream_steps"])

    def shown(which):
        ctl.outcome = panel.snapshot.images[0].copy()
        if which == "channel":
            ctl.result(f"Channel {params['channel']} of {params['layer']} after "
                       f"{panel.snapshot.step} steps, from noise. Next (button below): "
                       "amplify whatever a whole layer sees in the photo.")
        else:
            ctl.result(f"DeepDream on the photo: {params['dream_layer']} amplified for "
                       f"{panel.snapshot.step} steps.")

    ctl.dock.add_step("DeepDream on the photo", dream,
                      "start from the current image and amplify a whole layer")
    ctl.steps.prepare(IMAGE_MODEL, "Feature visualization", run, sample="chelsea")


# ------------------------------------------------------------ 10. FGSM
def fgsm(ctl, params) -> None:
    panel = ctl.window.panel("Adversarial")

    def run():
        panel.modes.setCurrentIndex(0)
        panel.method.setCurrentIndex(panel.method.findData("fgsm"))
        panel.form.editors["eps"].setValue(params["eps_255"])
        panel.target_mode.setCurrentText("untargeted")
        panel.amplification.setValue(params["amplify"])
        panel.result = None
        panel.run_attack()
        ctl.steps.when(lambda: panel.result is not None, shown)

    def shown():
        view = panel.result
        before, after = view.before[0], view.after[0]
        ctl.result(f"<b>{before.label}</b> {before.prob:.1%} + a perturbation of "
                   f"{view.linf * 255:.1f}/255 (shown × {panel.amplification.value()}) = "
                   f"<b>{after.label}</b> {after.prob:.1%}.")

    ctl.steps.prepare(IMAGE_MODEL, "Adversarial", run, sample=params["sample"])


# ------------------------------------------------------------ 11. adversarial patch
def adversarial_patch(ctl, params) -> None:
    from workbench.ui.lessons.jobs import patch_transfer_job, shipped_patch_job

    window, panel = ctl.window, ctl.window.panel("Adversarial")

    def load():
        panel.modes.setCurrentIndex(2)
        window.runner.submit(shipped_patch_job, name="Reading the shipped patch",
                             key="lesson-patch", on_finished=paste,
                             on_error=window.state.error)

    def paste(loaded):
        from workbench.ui.tabs.adversarial.patch_page import on_grey

        (patch, mask), record = loaded
        target = record["target"]
        panel.patch_target.setCurrentIndex(target)
        panel.patch_form.editors["size"].setValue(patch.shape[0])
        panel.patch = (patch, mask, np.zeros(0))
        panel.patch_view.set_image(on_grey(np.concatenate([patch, mask[..., None]], 2)))
        panel.patch_view.set_title(f"shipped patch · {patch.shape[0]} px")
        size = window.state.model.input_size
        panel.patched = None
        panel.paste_at((size[1] * params["at"][0], size[0] * params["at"][1]))
        window.runner.submit(partial(patch_transfer_job, window.state.model, patch, mask,
                                     target, params["placements"]),
                             name="Patch transfer to the samples", key="lesson-transfer",
                             on_finished=partial(shown, record), on_error=window.state.error)

    def shown(record, transfer):
        ctl.outcome = transfer
        hits = sum(r >= 0.5 for r in transfer.per_image)
        trained = record["held_out"]["transfer_rate"]
        ctl.result(f"Pasted on the photo: <b>{panel.patched_caption.text() or '…'}</b><br>"
                   f"On the {len(transfer.names)} samples, {transfer.placements} random "
                   f"places each: top-1 toaster {transfer.rate:.0%} of the time (on {hits} of "
                   f"{len(transfer.names)} photos at least half the time). Shipped record: "
                   f"{trained:.0%}, "
                   f"trained for {record['params']['steps']} steps on other photos.")

    def train():
        from workbench.io.samples import available_samples

        window.inputs.add_paths([str(s.path()) for s in available_samples()])
        ctl.steps.when(lambda: window.inputs.list.count() >= len(available_samples()),
                       lambda: panel.train_patch())

    ctl.dock.add_step("Train a new patch", train,
                      "train one on the sample photos (Adversarial → Patch; minutes on a CPU)")
    ctl.steps.prepare(IMAGE_MODEL, "Adversarial", load, sample=params["sample"])


# ------------------------------------------------------------ 12. the convolution quiz
def conv_quiz(ctl, params) -> None:
    panel = ctl.window.panel("Inspector")
    ctl.window.tabs.setCurrentWidget(panel)
    panel.pages.setCurrentWidget(panel.conv)
    quiz = panel.conv.quiz
    quiz.show_question(params["question"])
    ctl.result("Ask the class, then press <i>Reveal the answer</i>: the calculator sets "
               "itself to the question and computes it.")
