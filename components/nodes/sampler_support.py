"""Which ComfyUI sampler/scheduler pairs rxgen can run faithfully, as a validation rule.

The diffusers driver maps each pair onto a diffusers scheduler (drivers/diffusion/samplers.py)
and refuses the pairs below, for which diffusers has no faithful counterpart. The table is
restated here, as data, so that validation (pure, in main) rejects such a workflow before
anything runs; a test checks that it says exactly what the driver's own check says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

_EULER_A = (
    "sampler 'euler_ancestral' (diffusers' EulerAncestralDiscreteScheduler) cannot use the "
    "{schedule!r} noise schedule; choose another scheduler, e.g. 'normal'"
)
_LCM = (
    "sampler 'lcm' has no faithful counterpart of scheduler {schedule!r}; use sgm_uniform or simple"
)
_DDIM = (
    "sampler 'ddim' has no faithful counterpart of scheduler {schedule!r}; use sgm_uniform, "
    "simple or ddim_uniform"
)

UNSUPPORTED_PAIRS: Final[Mapping[tuple[str, str], str]] = {
    ("euler_ancestral", "karras"): _EULER_A,
    ("euler_ancestral", "exponential"): _EULER_A,
    ("lcm", "normal"): _LCM,
    ("lcm", "karras"): _LCM,
    ("lcm", "exponential"): _LCM,
    ("lcm", "ddim_uniform"): _LCM,
    ("ddim", "normal"): _DDIM,
    ("ddim", "karras"): _DDIM,
    ("ddim", "exponential"): _DDIM,
}


def sampler_pair_rule(inputs: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Reports the scheduler input when the pair has no faithful diffusers counterpart."""
    sampler, schedule = inputs.get("sampler_name"), inputs.get("scheduler")
    template = UNSUPPORTED_PAIRS.get((str(sampler), str(schedule)))
    if template is not None:
        yield "scheduler", template.format(schedule=schedule)
