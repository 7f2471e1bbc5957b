"""The ComfyUI sampler/scheduler name table and the diffusers schedulers it builds."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
    KDPM2AncestralDiscreteScheduler,
    KDPM2DiscreteScheduler,
    LCMScheduler,
    UniPCMultistepScheduler,
)

from components.nodes.core import SAMPLER_NAMES, SCHEDULER_NAMES
from drivers.diffusion.samplers import (
    SUPPORTED_SAMPLERS,
    SUPPORTED_SCHEDULERS,
    UnsupportedSampler,
    make_scheduler,
    sampler_spec,
    unsupported,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array_wrap__ must accept context:DeprecationWarning"
)

BASE_CONFIG: dict[str, Any] = {
    "_class_name": "PNDMScheduler",
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
    "set_alpha_to_one": False,
    "clip_sample": False,
    "skip_prk_steps": True,
    "trained_betas": None,
}

HAS_SCIPY = importlib.util.find_spec("scipy") is not None
HAS_TORCHSDE = importlib.util.find_spec("torchsde") is not None

EXPECTED_CLASS = {
    "euler": EulerDiscreteScheduler,
    "euler_ancestral": EulerAncestralDiscreteScheduler,
    "heun": HeunDiscreteScheduler,
    "dpm_2": KDPM2DiscreteScheduler,
    "dpm_2_ancestral": KDPM2AncestralDiscreteScheduler,
    "dpmpp_2m": DPMSolverMultistepScheduler,
    "dpmpp_2m_sde": DPMSolverMultistepScheduler,
    "ddim": DDIMScheduler,
    "uni_pc": UniPCMultistepScheduler,
    "uni_pc_bh2": UniPCMultistepScheduler,
    "lcm": LCMScheduler,
}


def _runnable() -> list[tuple[str, str]]:
    return [
        (sampler, scheduler)
        for sampler in SUPPORTED_SAMPLERS
        for scheduler in SUPPORTED_SCHEDULERS
        if unsupported(sampler, scheduler) is None
    ]


def test_every_node_catalog_name_is_mapped_or_explained() -> None:
    for sampler in SAMPLER_NAMES:
        assert sampler in SUPPORTED_SAMPLERS, sampler
    for scheduler in SCHEDULER_NAMES:
        assert scheduler in SUPPORTED_SCHEDULERS, scheduler


@pytest.mark.parametrize(("sampler", "scheduler"), _runnable())
def test_every_supported_combination_builds_its_scheduler(sampler: str, scheduler: str) -> None:
    sched = make_scheduler(sampler, scheduler, BASE_CONFIG)
    if sampler in EXPECTED_CLASS:
        assert type(sched) is EXPECTED_CLASS[sampler]
    sched.set_timesteps(8)
    assert len(sched.timesteps) >= 8
    # The model's training schedule comes from the base config.
    assert sched.config.beta_schedule == "scaled_linear"
    assert sched.config.beta_end == pytest.approx(0.012)


def test_the_common_samplers_run_with_every_scheduler() -> None:
    for sampler in ("euler", "heun", "dpm_2", "dpm_2_ancestral", "dpmpp_2m", "dpmpp_2m_sde"):
        for scheduler in SUPPORTED_SCHEDULERS:
            assert unsupported(sampler, scheduler) is None, (sampler, scheduler)


@pytest.mark.parametrize(
    ("sampler", "flag"),
    [
        ("euler", "use_karras_sigmas"),
        ("heun", "use_karras_sigmas"),
        ("dpm_2", "use_karras_sigmas"),
        ("dpmpp_2m", "use_karras_sigmas"),
        ("uni_pc", "use_karras_sigmas"),
    ],
)
def test_karras_and_exponential_set_their_flags(sampler: str, flag: str) -> None:
    karras = make_scheduler(sampler, "karras", BASE_CONFIG)
    assert karras.config.use_karras_sigmas is True
    assert karras.config.use_exponential_sigmas is False
    exponential = make_scheduler(sampler, "exponential", BASE_CONFIG)
    assert exponential.config.use_exponential_sigmas is True
    assert exponential.config.use_karras_sigmas is False
    assert exponential.config.timestep_spacing == "linspace"
    normal = make_scheduler(sampler, "normal", BASE_CONFIG)
    assert normal.config.use_karras_sigmas is False
    assert normal.config.timestep_spacing == "linspace"


@pytest.mark.parametrize(
    ("scheduler", "spacing"),
    [("normal", "linspace"), ("sgm_uniform", "trailing"), ("simple", "trailing")],
)
def test_spacing_schedulers(scheduler: str, spacing: str) -> None:
    assert make_scheduler("euler", scheduler, BASE_CONFIG).config.timestep_spacing == spacing


def test_sgm_uniform_timesteps_match_comfyui() -> None:
    sched = make_scheduler("euler", "sgm_uniform", BASE_CONFIG)
    sched.set_timesteps(4)
    assert sched.timesteps.tolist() == [999, 749, 499, 249]


def test_normal_timesteps_span_the_whole_range() -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    sched.set_timesteps(4)
    assert sched.timesteps.tolist() == [999, 666, 333, 0]


def test_ddim_uniform_is_leading_spacing_with_offset_one() -> None:
    sched = make_scheduler("ddim", "ddim_uniform", BASE_CONFIG)
    sched.set_timesteps(20)
    # ComfyUI's ddim_uniform: training timesteps 1, 51, 101, ... 951, from the top.
    assert sched.timesteps.tolist() == list(range(951, 0, -50))


def test_sampler_specific_options() -> None:
    dpmpp = make_scheduler("dpmpp_2m", "karras", BASE_CONFIG)
    assert dpmpp.config.algorithm_type == "dpmsolver++"
    assert dpmpp.config.solver_order == 2
    sde = make_scheduler("dpmpp_2m_sde", "karras", BASE_CONFIG)
    assert sde.config.algorithm_type == "sde-dpmsolver++"
    unipc = make_scheduler("uni_pc", "normal", BASE_CONFIG)
    assert (unipc.config.solver_type, unipc.config.solver_order) == ("bh1", 3)
    ddim = make_scheduler("ddim", "simple", BASE_CONFIG)
    assert ddim.config.clip_sample is False


def test_base_config_cannot_leak_a_sigma_schedule() -> None:
    base = {**BASE_CONFIG, "use_karras_sigmas": True, "algorithm_type": "dpmsolver"}
    sched = make_scheduler("dpmpp_2m", "normal", base)
    assert sched.config.use_karras_sigmas is False
    assert sched.config.algorithm_type == "dpmsolver++"


def test_prediction_type_comes_from_the_model() -> None:
    base = {**BASE_CONFIG, "prediction_type": "v_prediction"}
    assert make_scheduler("euler", "normal", base).config.prediction_type == "v_prediction"


@pytest.mark.parametrize(
    ("sampler", "scheduler", "fragment"),
    [
        ("euler_ancestral", "karras", "no use_karras_sigmas option"),
        ("euler_ancestral", "exponential", "no use_exponential_sigmas option"),
        ("ddim", "normal", "use one of: sgm_uniform, simple, ddim_uniform"),
        ("ddim", "karras", "no faithful counterpart"),
        ("lcm", "karras", "use one of: sgm_uniform, simple"),
        ("dpm_fast", "normal", "not supported"),
        ("dpmpp_2s_ancestral", "karras", "not supported"),
        ("no_such_sampler", "normal", "unknown sampler 'no_such_sampler'"),
        ("euler", "no_such_schedule", "unknown scheduler 'no_such_schedule'"),
    ],
)
def test_unsupported_combinations_give_a_reason(
    sampler: str, scheduler: str, fragment: str
) -> None:
    reason = unsupported(sampler, scheduler)
    assert reason is not None
    assert fragment in reason
    with pytest.raises(UnsupportedSampler) as info:
        make_scheduler(sampler, scheduler, BASE_CONFIG)
    assert str(info.value) == reason


@pytest.mark.skipif(HAS_SCIPY, reason="scipy is installed, so lms is available")
def test_lms_without_scipy_is_a_clear_error() -> None:
    reason = unsupported("lms", "normal")
    assert reason is not None
    assert "scipy" in reason and "pip install scipy" in reason


@pytest.mark.skipif(HAS_TORCHSDE, reason="torchsde is installed, so dpmpp_sde is available")
def test_dpmpp_sde_without_torchsde_is_a_clear_error() -> None:
    reason = unsupported("dpmpp_sde", "karras")
    assert reason is not None
    assert "torchsde" in reason
    with pytest.raises(UnsupportedSampler, match="torchsde"):
        make_scheduler("dpmpp_sde", "karras", BASE_CONFIG)


def test_sampler_spec_lookup() -> None:
    assert sampler_spec("dpmpp_sde").scheduler_class == "DPMSolverSDEScheduler"
    with pytest.raises(UnsupportedSampler, match="unknown sampler"):
        sampler_spec("nope")
