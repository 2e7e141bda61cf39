"""``workbench models`` and ``workbench predict``."""

from __future__ import annotations

import json

from workbench.cli import common
from workbench.cli.dense_predict import add_predict_options, check_classifier_options, predict_dense
from workbench.errors import WorkbenchError


def add_parsers(sub, add_model_options) -> None:
    models = sub.add_parser("models", help="list models and whether each works offline now")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    predict = sub.add_parser("predict", help="top-k classes for an image (a detector: boxes; "
                                             "a segmenter: class shares)")
    predict.add_argument("image")
    predict.add_argument("--topk", type=int, default=5)
    predict.add_argument("--json", action="store_true",
                         help='print [{"index", "label", "prob"}, ...], best first')
    predict.add_argument("--with-input", action="store_true",
                         help='also say what the model sees; with --json print {"top": [...], '
                              '"input": {"size": [h, w], "channels": c, "conversion": "..."}}')
    predict.add_argument("--save-input", metavar="FILE.npy",
                         help="save the exact (1, 3, H, W) pixel tensor the model saw")
    add_predict_options(predict)
    add_model_options(predict)


def cmd_models(args) -> int:
    from workbench.core.models import available_models

    rows = available_models()
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for row in rows:
        if row.offline and row.weights is None:  # built in: say what it is (task, accuracy)
            where = f"offline · {row.description}"
        else:
            where = "offline" if row.offline else "needs download (NAME:random works offline)"
        print(f"{row.name:<{width}}  {row.kind:<5}  {where}")
    return 0


def cmd_predict(args) -> int:
    from workbench.core.predict import predict_image
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.images import load_image

    if args.topk < 1:
        raise WorkbenchError("--topk must be at least 1")
    image = load_image(args.image)
    model = common.load_cli_model(args)
    if model.task != "classification":
        return predict_dense(args, model, image)
    check_classifier_options(args, model)
    prediction, pixels = common.run_core(args, predict_image, model, image, args.topk)
    if args.save_input:
        save_npy_atomic(args.save_input, pixels.detach().cpu().numpy().astype("float32"))
    rows = [score.as_dict() for score in prediction.top]
    if args.json:
        shown = {"top": rows, "input": model.input_description()} if args.with_input else rows
        print(json.dumps(shown, indent=2))
    else:
        if args.with_input:
            print(f"input: {model.input_description()['conversion']}, "
                  f"{model.input_text().rpartition(', ')[2]}")
        for score in prediction.top:
            print(f"{score.prob:7.2%}  {score.index:>5}  {score.label}")
    return 0


COMMANDS = {"models": cmd_models, "predict": cmd_predict}
