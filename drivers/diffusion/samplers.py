"""ComfyUI sampler and scheduler names mapped onto diffusers schedulers.

ComfyUI names a sampling run by two words: the *sampler* (the solver, e.g. ``dpmpp_2m``) and the
*scheduler* (how the noise levels are spaced, e.g. ``karras``). diffusers folds both into one
scheduler object: a class for the solver plus config flags for the spacing. The table below
follows diffusers' own A1111/k-diffusion mapping (docs/source/en/api/schedulers/overview.md,
"Many schedulers are implemented from the k-diffusion library..." and "Noise schedules and
schedule types"), with the ComfyUI specifics read from ComfyUI's ``comfy/samplers.py`` (facts
only, no code): ``ddim`` there is Euler on the DDIM schedule, ``uni_pc`` is UniPC's bh1 variant of
order 3, ``uni_pc_bh2`` its bh2 variant.

A combination without a faithful counterpart is refused with a reason (:func:`unsupported`),
never replaced by a look-alike: a workflow asking for ``euler_ancestral`` + ``karras`` must fail
validation rather than silently render with another noise schedule.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import diffusers
from diffusers.schedulers.scheduling_utils import SchedulerMixin

__all__ = [
    "SUPPORTED_SAMPLERS",
    "SUPPORTED_SCHEDULERS",
    "SamplerSpec",
    "UnsupportedSampler",
    "make_scheduler",
    "sampler_spec",
    "unsupported",
]


@dataclass(frozen=True)
class SamplerSpec:
    """How one ComfyUI sampler name becomes a diffusers scheduler."""

    scheduler_class: str
    """Name of the diffusers scheduler class (resolved lazily: some need optional packages)."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Config values that make the class behave like the ComfyUI sampler."""
    requires: tuple[str, ...] = ()
    """Python packages the class imports; without them diffusers exposes only a dummy."""
    schedulers: tuple[str, ...] | None = None
    """Scheduler names this sampler accepts; None means decided by the class's config flags."""
    note: str = ""


_SAMPLERS: Final[dict[str, SamplerSpec]] = {
    "euler": SamplerSpec("EulerDiscreteScheduler"),
    "euler_ancestral": SamplerSpec("EulerAncestralDiscreteScheduler"),
    "heun": SamplerSpec("HeunDiscreteScheduler"),
    "dpm_2": SamplerSpec("KDPM2DiscreteScheduler"),
    "dpm_2_ancestral": SamplerSpec("KDPM2AncestralDiscreteScheduler"),
    "lms": SamplerSpec("LMSDiscreteScheduler", requires=("scipy",)),
    "dpmpp_2m": SamplerSpec(
        "DPMSolverMultistepScheduler",
        {
            "algorithm_type": "dpmsolver++",
            "solver_order": 2,
            "solver_type": "midpoint",
            # k-diffusion's DPM++ 2M takes a first-order step onto sigma 0; these give the same.
            "final_sigmas_type": "zero",
            "lower_order_final": True,
            "euler_at_final": False,
            "use_lu_lambdas": False,
        },
    ),
    "dpmpp_sde": SamplerSpec(
        "DPMSolverSDEScheduler",
        requires=("torchsde",),
        note="diffusers' port of k-diffusion's DPM++ SDE (Brownian-tree noise, seeded per run)",
    ),
    "dpmpp_2m_sde": SamplerSpec(
        "DPMSolverMultistepScheduler",
        {
            "algorithm_type": "sde-dpmsolver++",
            "solver_order": 2,
            "solver_type": "midpoint",
            "final_sigmas_type": "zero",
            "lower_order_final": True,
            "euler_at_final": False,
            "use_lu_lambdas": False,
        },
    ),
    # ComfyUI's "ddim" is Euler on the DDIM schedule; deterministic DDIM (eta 0) is the same ODE
    # step written in the variance-preserving parametrisation. No clipping: latents are not
    # bounded to [-1, 1] the way pixels are, and ComfyUI does not clip.
    "ddim": SamplerSpec(
        "DDIMScheduler",
        {"clip_sample": False, "thresholding": False},
        # DDIMScheduler steps from t to t - 1000 // steps, which matches only evenly strided
        # "leading"/"trailing" spacings; its "linspace" grid (999, 666, ...) would step to the
        # wrong noise level, so "normal" is refused below.
        schedulers=("sgm_uniform", "simple", "ddim_uniform"),
    ),
    "uni_pc": SamplerSpec(
        "UniPCMultistepScheduler",
        {
            "solver_type": "bh1",
            "solver_order": 3,
            "predict_x0": True,
            "lower_order_final": True,
            # ComfyUI's UniPC ends at the smallest training noise level, not at 0; diffusers'
            # bh1 update also divides by zero (NaN) when asked to step onto sigma 0.
            "final_sigmas_type": "sigma_min",
        },
    ),
    "uni_pc_bh2": SamplerSpec(
        "UniPCMultistepScheduler",
        {
            "solver_type": "bh2",
            "solver_order": 3,
            "predict_x0": True,
            "lower_order_final": True,
            # ComfyUI's UniPC ends at the smallest training noise level, not at 0; diffusers'
            # bh1 update also divides by zero (NaN) when asked to step onto sigma 0.
            "final_sigmas_type": "sigma_min",
        },
    ),
    # LCMScheduler ignores timestep_spacing: it always picks its steps from its own 50-step
    # "origin" grid (999, 979, ..., 19), close to ComfyUI's sgm_uniform/simple spacing (for 4
    # steps 999, 759, 499, 259 against 999, 749, 499, 249) and unlike the others.
    "lcm": SamplerSpec(
        "LCMScheduler",
        {"clip_sample": False, "thresholding": False},
        schedulers=("sgm_uniform", "simple"),
        note="LCMScheduler's own timestep grid approximates sgm_uniform/simple",
    ),
}

# ComfyUI samplers known to have no diffusers counterpart, with the reason shown to the user.
_NO_COUNTERPART: Final[dict[str, str]] = {
    "dpm_fast": "diffusers has no DPM-fast scheduler (its A1111 mapping table lists it as N/A)",
    "dpm_adaptive": "diffusers has no adaptive-step DPM scheduler (N/A in its mapping table)",
    "dpmpp_2s_ancestral": (
        "diffusers has no DPM++ 2S ancestral scheduler (its mapping table calls "
        "DPMSolverSinglestepScheduler only 'very similar')"
    ),
    "dpmpp_3m_sde": "diffusers has no third-order SDE multistep DPM++ scheduler",
    "ddpm": "ComfyUI's ancestral DDPM sampler has no matching diffusers scheduler",
}
for _name in ("dpmpp_sde_gpu", "dpmpp_2m_sde_gpu", "dpmpp_3m_sde_gpu"):
    _NO_COUNTERPART[_name] = (
        f"{_name!r} differs from {_name.removesuffix('_gpu')!r} only in where ComfyUI draws its "
        "Brownian noise; rxgen does not offer the variant"
    )

SUPPORTED_SAMPLERS: Final[tuple[str, ...]] = tuple(_SAMPLERS)
"""Sampler names with a diffusers counterpart (some still need an optional package)."""


@dataclass(frozen=True)
class _ScheduleSpec:
    overrides: Mapping[str, Any]
    needs: str | None
    """Config parameter the scheduler class must accept for this schedule to be honoured."""


_SCHEDULES: Final[dict[str, _ScheduleSpec]] = {
    # ComfyUI "normal": timesteps evenly spaced from 999 to 0, both ends included.
    "normal": _ScheduleSpec({"timestep_spacing": "linspace"}, "timestep_spacing"),
    "karras": _ScheduleSpec(
        {"timestep_spacing": "linspace", "use_karras_sigmas": True}, "use_karras_sigmas"
    ),
    "exponential": _ScheduleSpec(
        {"timestep_spacing": "linspace", "use_exponential_sigmas": True},
        "use_exponential_sigmas",
    ),
    # ComfyUI "sgm_uniform" (999, 749, 499, 249 for 4 steps) and "simple" (every
    # 1000/steps-th training sigma from the top) are both diffusers' "trailing" spacing.
    "sgm_uniform": _ScheduleSpec({"timestep_spacing": "trailing"}, "timestep_spacing"),
    "simple": _ScheduleSpec({"timestep_spacing": "trailing"}, "timestep_spacing"),
    # ComfyUI "ddim_uniform": timesteps 1, 1 + k, 1 + 2k, ... with k = 1000 // steps, which is
    # diffusers' "leading" spacing with steps_offset 1. (ComfyUI keeps every such timestep below
    # 1000, so when `steps` does not divide 1000 evenly it may run one step more than asked,
    # e.g. 31 for 30; diffusers runs exactly `steps`.)
    "ddim_uniform": _ScheduleSpec(
        {"timestep_spacing": "leading", "steps_offset": 1}, "timestep_spacing"
    ),
}

SUPPORTED_SCHEDULERS: Final[tuple[str, ...]] = tuple(_SCHEDULES)

_SIGMA_FLAGS: Final = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")


class UnsupportedSampler(ValueError):
    """A sampler/scheduler combination rxgen cannot run faithfully; the message says why."""


def sampler_spec(sampler_name: str) -> SamplerSpec:
    """The mapping entry for ``sampler_name``; raises :class:`UnsupportedSampler` if unknown."""
    spec = _SAMPLERS.get(sampler_name)
    if spec is None:
        raise UnsupportedSampler(_unknown_sampler(sampler_name))
    return spec


def _unknown_sampler(name: str) -> str:
    if name in _NO_COUNTERPART:
        return f"sampler {name!r} is not supported: {_NO_COUNTERPART[name]}"
    return f"unknown sampler {name!r}; choose one of: {', '.join(SUPPORTED_SAMPLERS)}"


def _missing_packages(spec: SamplerSpec) -> list[str]:
    return [pkg for pkg in spec.requires if importlib.util.find_spec(pkg) is None]


def _scheduler_class(spec: SamplerSpec) -> Any:
    # Any: diffusers' scheduler classes get from_config from ConfigMixin, which mypy cannot see
    # through SchedulerMixin.
    return getattr(diffusers, spec.scheduler_class)


def _init_params(cls: Any) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self"}


def unsupported(sampler_name: str, scheduler_name: str) -> str | None:
    """Why ``sampler_name`` + ``scheduler_name`` cannot run here, or None when it can.

    The text is meant for a validation error shown next to the KSampler node's inputs.
    """
    spec = _SAMPLERS.get(sampler_name)
    if spec is None:
        return _unknown_sampler(sampler_name)
    schedule = _SCHEDULES.get(scheduler_name)
    if schedule is None:
        return (
            f"unknown scheduler {scheduler_name!r}; choose one of: "
            f"{', '.join(SUPPORTED_SCHEDULERS)}"
        )
    missing = _missing_packages(spec)
    if missing:
        packages = " ".join(missing)
        return (
            f"sampler {sampler_name!r} needs the Python package(s) {packages} "
            f"(diffusers' {spec.scheduler_class} imports them), which are not installed; "
            f"install them (pip install {packages}) or choose another sampler"
        )
    if spec.schedulers is not None:
        if scheduler_name in spec.schedulers:
            return None
        return (
            f"sampler {sampler_name!r} ({spec.scheduler_class}) has no faithful counterpart of "
            f"scheduler {scheduler_name!r}; use one of: {', '.join(spec.schedulers)}"
        )
    cls = _scheduler_class(spec)
    if schedule.needs is not None and schedule.needs not in _init_params(cls):
        return (
            f"sampler {sampler_name!r} ({spec.scheduler_class} in diffusers "
            f"{diffusers.__version__}) cannot use the {scheduler_name!r} noise schedule (it has "
            f"no {schedule.needs} option); choose another scheduler, e.g. 'normal'"
        )
    return None


def make_scheduler(
    sampler_name: str, scheduler_name: str, base_config: Mapping[str, Any]
) -> SchedulerMixin:
    """Build the diffusers scheduler for a ComfyUI sampler/scheduler pair.

    ``base_config`` is the model's own scheduler config (its ``scheduler_config.json``): it
    supplies the training noise schedule (betas, ``num_train_timesteps``, ``prediction_type``).
    Keys the target class does not take are dropped, and every option that selects the solver or
    the spacing is set explicitly, so nothing from the model's default scheduler leaks in.
    Raises :class:`UnsupportedSampler` with the reason from :func:`unsupported`.
    """
    reason = unsupported(sampler_name, scheduler_name)
    if reason is not None:
        raise UnsupportedSampler(reason)
    spec = _SAMPLERS[sampler_name]
    cls = _scheduler_class(spec)
    params = _init_params(cls)
    config: dict[str, Any] = {k: v for k, v in base_config.items() if k in params}
    # Reset every alternative sigma schedule so a flag in the base config cannot survive.
    config.update({flag: False for flag in _SIGMA_FLAGS if flag in params})
    config.update(spec.overrides)
    config.update({k: v for k, v in _SCHEDULES[scheduler_name].overrides.items() if k in params})
    scheduler: SchedulerMixin = cls.from_config(config)
    return scheduler
