"""Devices, dtypes and memory: where models run, in what precision, and within what budget.

Also the helpers for moving modules between devices, measuring them, recognising an
out-of-memory error, and the process-wide lock that lets one job at a time use a device.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, Final

import torch

__all__ = [
    "choose_device",
    "choose_dtype",
    "default_budget",
    "device_key",
    "device_lock",
    "is_oom_error",
    "module_bytes",
    "system_memory_bytes",
    "to_cpu",
]

_DTYPE_NAMES: Final[Mapping[str, torch.dtype]] = {
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp32": torch.float32,
    "float32": torch.float32,
    "float": torch.float32,
}

_DEVICE_LOCKS: dict[str, threading.Lock] = {}
_DEVICE_LOCKS_GUARD = threading.Lock()


def choose_device(
    requested: str | torch.device | None = None,
    *,
    cuda_available: bool | None = None,
    mps_available: bool | None = None,
) -> torch.device:
    """The device to run on: ``requested`` if given (and present), else cuda > mps > cpu.

    The availability flags default to asking torch; tests pass them to check the choice alone.
    """
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    if mps_available is None:
        mps_available = torch.backends.mps.is_available()
    if requested is not None:
        device = torch.device(requested)
        if device.type == "cuda" and not cuda_available:
            raise ValueError(
                f"device {str(requested)!r} was asked for but CUDA is not available "
                "(no NVIDIA GPU, or a CPU-only torch build); use --device cpu"
            )
        if device.type == "mps" and not mps_available:
            raise ValueError(f"device {str(requested)!r} was asked for but MPS is not available")
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", 0)  # one spelling per GPU: cache keys and locks agree
        return device
    if cuda_available:
        return torch.device("cuda", 0)
    if mps_available:
        return torch.device("mps")
    return torch.device("cpu")


def choose_dtype(device: torch.device, requested: torch.dtype | str | None = None) -> torch.dtype:
    """fp16 on CUDA (bf16 when asked), fp32 on CPU and MPS, unless ``requested`` says otherwise.

    fp32 on MPS: fp16 SD on MPS produces black images on some macOS versions and saves little.
    An explicit request is honoured everywhere (bf16 on a recent CPU is a valid choice).
    """
    if requested is not None:
        if isinstance(requested, torch.dtype):
            return requested
        try:
            return _DTYPE_NAMES[requested.lower()]
        except KeyError:
            raise ValueError(
                f"unknown dtype {requested!r}; use one of {', '.join(sorted(_DTYPE_NAMES))}"
            ) from None
    return torch.float16 if device.type == "cuda" else torch.float32


def system_memory_bytes() -> int:
    """Total RAM: psutil when installed, else /proc/meminfo, else sysconf, else 8 GiB."""
    try:
        import psutil  # type: ignore[import-untyped]

        return int(psutil.virtual_memory().total)
    except ImportError:  # psutil is optional: accelerate pulls it in, rxgen does not require it
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def default_budget(device: torch.device) -> int:
    """80% of the GPU's memory on CUDA (activations need the rest), 50% of RAM elsewhere."""
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
        return int(total * 0.8)
    return int(system_memory_bytes() * 0.5)


def module_bytes(value: Any) -> int:
    """Bytes held by a module's parameters and buffers; 0 for anything that is not a module."""
    if not isinstance(value, torch.nn.Module):
        return 0
    tensors = [*value.parameters(), *value.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def is_oom_error(exc: BaseException) -> bool:
    """Whether ``exc`` is running out of memory (CUDA, MPS or CPU allocator)."""
    # torch.cuda.OutOfMemoryError: the spelling torch 2.4 (the oldest we allow) already has.
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text.lower() or "can't allocate memory" in text
    )


def to_cpu(value: Any) -> None:
    """Move a module to the CPU in place; anything that is not a module is left alone."""
    if isinstance(value, torch.nn.Module):
        value.to("cpu")


def device_key(device: torch.device) -> str:
    """One spelling per device (``cuda`` is ``cuda:0``), for cache keys and lock tables."""
    if device.type == "cuda" and device.index is None:
        return "cuda:0"
    return str(device)


def device_lock(device: torch.device) -> threading.Lock:
    """The process-wide lock serializing work on ``device``."""
    key = device_key(device)
    with _DEVICE_LOCKS_GUARD:
        return _DEVICE_LOCKS.setdefault(key, threading.Lock())
