"""Adversarial attacks in pixel space, the epsilon sweep, and the adversarial patch.

Importing this package registers every attack in :data:`METHODS` by its CLI
name.  ``attack(model, x, "pgd", target=None | class | "least-likely",
params={...})`` is the one entry point; each attack lives in its own small file.
"""

from workbench.core.adversarial import (  # noqa: F401 - registration side effects
    bim,
    cw,
    deepfool,
    fgsm,
    mifgsm,
    pgd,
    pgd_l2,
)
from workbench.core.adversarial.base import (
    LEAST_LIKELY,
    METHODS,
    Attack,
    AttackResult,
    Goal,
    get_attack,
    quantize_8bit,
)
from workbench.core.adversarial.bim import BIMParams
from workbench.core.adversarial.cw import CWParams
from workbench.core.adversarial.deepfool import DeepFoolParams
from workbench.core.adversarial.fgsm import FGSMParams
from workbench.core.adversarial.mifgsm import MIFGSMParams
from workbench.core.adversarial.pgd import PGDParams
from workbench.core.adversarial.pgd_l2 import PGDL2Params
from workbench.core.adversarial.sweep import SweepResult, epsilon_sweep

METHOD_ORDER = ("fgsm", "bim", "pgd", "pgd-l2", "mifgsm", "deepfool", "cw")


def attack(model, x, method: str, target=None, params=None, ctx=None,
           labels=None) -> AttackResult:
    """Run the registered attack ``method`` on pixels ``x`` (see :class:`Attack`)."""
    return get_attack(method)(model, x, target=target, params=params, ctx=ctx, labels=labels)


__all__ = [
    "LEAST_LIKELY",
    "METHODS",
    "METHOD_ORDER",
    "Attack",
    "AttackResult",
    "BIMParams",
    "CWParams",
    "DeepFoolParams",
    "FGSMParams",
    "Goal",
    "MIFGSMParams",
    "PGDL2Params",
    "PGDParams",
    "SweepResult",
    "attack",
    "epsilon_sweep",
    "get_attack",
    "quantize_8bit",
]
