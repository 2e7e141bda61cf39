"""A compiled forward for forward-only jobs (issue 20): exact or not used.

On this CPU the eager forward is not the limit: EfficientNet-Lite0 ran 2.1× faster
compiled by inductor, logits equal to ~1e-6 (DESIGN.md §9).  A model's network is
exported once with a dynamic batch and compiled ahead of time (AOTInductor) into a
package kept in Workbench's cache (:mod:`.build`, :mod:`.store`); every later process
loads it in a fraction of a second and checks it against eager before using it
(:mod:`.runtime`).  The window builds packages in a helper process (:mod:`.helper`), so
its own process never runs the compiler.  ``WORKBENCH_COMPILE=0`` or the setting turns it
off.
"""

from workbench.core.fastpath.plan import DEFAULT_PRECISION, PRECISIONS, Plan
from workbench.core.fastpath.runtime import (
    FACTS_KEY,
    NOT_BUILT,
    STATE_KEY,
    WINDOW_LOCK_BUDGET_MS,
    details,
    drop,
    eager,
    enabled_by_env,
    features,
    forward,
    is_ready,
    plan_of,
    prepare,
    state,
)
from workbench.core.fastpath.store import cache_dir, inductor_cache_dir

__all__ = ["DEFAULT_PRECISION", "FACTS_KEY", "NOT_BUILT", "PRECISIONS", "STATE_KEY",
           "WINDOW_LOCK_BUDGET_MS", "Plan", "cache_dir", "details", "drop", "eager",
           "enabled_by_env", "features", "forward", "inductor_cache_dir", "is_ready",
           "plan_of", "prepare", "state"]
