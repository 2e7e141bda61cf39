"""The twelve lessons of the lecture: title, two or three sentences, the papers, the
parameters the demonstration uses (tests may shorten steps and epochs here), and the
``setup(ctl, params)`` that builds it in the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.ui.lessons import setups, setups_more


@dataclass
class Lesson:
    number: int
    key: str
    title: str
    text: str
    links: tuple  # (name, url)
    setup: Callable
    params: dict = field(default_factory=dict)


KARPATHY = ("Karpathy et al., Large-scale video classification with CNNs, CVPR 2014",
            "https://openaccess.thecvf.com/content_cvpr_2014/html/"
            "Karpathy_Large-scale_Video_Classification_2014_CVPR_paper.html")
ZEILER = ("Zeiler & Fergus, Visualizing and understanding convolutional networks, 2014",
          "https://arxiv.org/abs/1311.2901")

LESSONS = (
    Lesson(1, "video", "A video, frame by frame",
           "An image classifier looks at each frame on its own; the timeline shows its "
           "top classes over time. The video's prediction is the average of the frames' "
           "probabilities — which ignores their order entirely.",
           (KARPATHY,), setups.video_over_time, {"every": 5}),
    Lesson(2, "motion", "Motion needs time",
           "A digit moves right, down, left, up. A per-frame CNN averaged over time cannot "
           "tell the direction (chance, 25 %); early fusion, late fusion, 3D convolutions "
           "and a CNN + LSTM all see time and follow it.",
           (KARPATHY, ("Tran et al., C3D: spatiotemporal features with 3D CNNs, 2015",
                       "https://arxiv.org/abs/1412.0767"),
            ("Donahue et al., Long-term recurrent convolutional networks, 2015",
             "https://arxiv.org/abs/1411.4389")),
           setups.motion_needs_time),
    Lesson(3, "occlusion", "Occlusion: hide the face",
           "Hide part of the image and watch the prediction: if the class's probability "
           "falls, the model needed what you hid. Here the cat's eyes and nose are covered "
           "with the image's mean colour.",
           (ZEILER,), setups.occlusion_paint, {"fill": "mean"}),
    Lesson(4, "sweep", "The most probable class under a sliding window",
           "Slide a grey square over the image and classify every position. The maps show "
           "how much the true class drops and which class wins where the square sits.",
           (ZEILER,), setups.occlusion_sweep, {"window": 48, "stride": 12}),
    Lesson(5, "two-classes", "Grad-CAM of two classes",
           "Grad-CAM weights a layer's feature maps by the gradient of one class's score. "
           "The same image, two classes: two different maps of evidence.",
           (("Selvaraju et al., Grad-CAM, ICCV 2017", "https://arxiv.org/abs/1610.02391"),),
           setups.two_classes,
           {"sample": "chelsea", "class_a": "Egyptian cat", "class_b": "tiger cat"}),
    Lesson(6, "neighbours", "Nearest neighbours in feature space",
           "Images the network finds similar are close in its feature space, even when "
           "their pixels differ. The query is a held-out digit; its neighbours are the "
           "closest digits by the features of the penultimate layer.",
           (("Krizhevsky et al., ImageNet classification with deep CNNs, 2012 (Fig. 4)",
             "https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-"
             "convolutional-neural-networks"),),
           setups.neighbours, {"k": 12}),
    Lesson(7, "tsne", "t-SNE of the digits",
           "t-SNE places points so that neighbours in feature space stay neighbours on the "
           "map. Coloured by the true digit, the classes form separate islands.",
           (("van der Maaten & Hinton, Visualizing data using t-SNE, JMLR 2008",
             "https://jmlr.org/papers/v9/vandermaaten08a.html"),),
           setups_more.tsne_digits, {"iterations": 500}),
    Lesson(8, "autoencoder", "An autoencoder's 2-D projection",
           "An autoencoder squeezes the features through a 2-D bottleneck and learns to "
           "reconstruct them; the bottleneck is the map. It is trained live: watch it move.",
           (("Hinton & Salakhutdinov, Reducing the dimensionality of data with neural "
             "networks, Science 2006", "https://www.science.org/doi/10.1126/science.1127647"),),
           setups_more.autoencoder_digits, {"epochs": 60}),
    Lesson(9, "featviz", "Feature visualization and DeepDream",
           "Optimize an image, from noise, to excite one channel: it shows what the channel "
           "responds to. DeepDream starts from a photo and amplifies a whole layer.",
           (("Olah et al., Feature visualization, Distill 2017",
             "https://distill.pub/2017/feature-visualization/"),
            ("Mordvintsev et al., Inceptionism (DeepDream), 2015",
             "https://research.google/blog/inceptionism-going-deeper-into-neural-networks/")),
           setups_more.feature_visualization,
           {"layer": "_blocks.8", "channel": 5, "steps": 128, "dream_layer": "_blocks.6",
            "dream_steps": 48}),
    Lesson(10, "fgsm", "FGSM: a small perturbation, a wrong answer",
           "One step along the sign of the gradient, two grey levels per pixel: invisible, "
           "yet the prediction changes. The perturbation is shown amplified.",
           (("Goodfellow et al., Explaining and harnessing adversarial examples, 2014",
             "https://arxiv.org/abs/1412.6572"),),
           setups_more.fgsm, {"sample": "coffee", "eps_255": 2, "amplify": 40}),
    Lesson(11, "patch", "An adversarial patch: “toaster”",
           "A sticker trained beforehand, over random places, sizes and rotations on other "
           "photos, makes the model say toaster wherever it is pasted. Its transfer rate is "
           "measured here on the samples.",
           (("Brown et al., Adversarial patch, 2017", "https://arxiv.org/abs/1712.09665"),),
           setups_more.adversarial_patch,
           {"sample": "astronaut", "at": (0.3, 0.7), "placements": 8}),
    Lesson(12, "conv-quiz", "Convolution arithmetic: the quiz",
           "Output size (W − F + 2P)/S + 1 and parameters F·F·C·K + K. Answer the "
           "question, then reveal the calculator's answer.",
           (("Dumoulin & Visin, A guide to convolution arithmetic, 2016",
             "https://arxiv.org/abs/1603.07285"),
            ("CS231n notes: convolutional networks",
             "https://cs231n.github.io/convolutional-networks/")),
           setups_more.conv_quiz, {"question": 0}),
)


def lesson(key: str) -> Lesson:
    return next(item for item in LESSONS if item.key == key)
