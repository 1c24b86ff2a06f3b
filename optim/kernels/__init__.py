"""Triton kernels for optimizer hot paths, and the switch that picks them.

    optim/kernels/splus.py    SPlus: U = Q_L sign(Q_L^T M Q_R) Q_R^T with the sign and the W / EMA update fused
                              into matmul epilogues
    optim/kernels/sophia.py   Sophia: the whole clipped update of one param group in one multi-tensor launch

Each kernel module has a torch reference `<name>_ref`, the `@triton.jit` kernel and a launcher that checks shapes,
strides and dtypes. Optimizers choose with their `<optimizer>_kernel` hyperparameter (config key, read from the
param group on every step):

    'auto'    the Triton kernel when the tensors live on CUDA and triton imports, else the torch path (default)
    'triton'  always the kernel; on CPU tensors only under TRITON_INTERPRET=1 (the interpreter: tests, CPU CI)
    'torch'   always the torch path (bitwise the pre-kernel optimizer)

triton is imported only when a kernel is about to run, so the repository works where it is not installed (macOS).
TRITON_INTERPRET=1 must be set before a kernel module is imported: triton.jit reads it when the kernels are
defined, at import time (tests/conftest.py sets it when CUDA is absent).
"""

import importlib
import importlib.util
import warnings


def _has_triton():
    try:
        return importlib.util.find_spec('triton') is not None
    except (ImportError, ValueError):  # a stubbed or half-removed triton
        return False


HAS_TRITON = _has_triton()
MODES = ('auto', 'triton', 'torch')


def check_mode(mode, option):
    """Validate a kernel switch value at optimizer construction (option: its config key, for the message)."""
    if mode not in MODES:
        raise ValueError(f"{option}={mode!r}: choose one of {', '.join(MODES)}")


def pick(mode, option, name, tensors):
    """The kernel module optim.kernels.<name> if the switch `mode` (config key `option`) selects it for these
    tensors, else None (use the torch path). 'auto' also falls back when the module says the tensors are not
    supported (float64, strides); 'triton' leaves those to the launcher's asserts so the error is explicit."""
    if mode == 'torch':
        return None
    if mode == 'auto':
        if not (HAS_TRITON and all(t.is_cuda for t in tensors)):
            return None
        try:
            module = importlib.import_module(f'optim.kernels.{name}')
        except Exception as e:  # noqa: BLE001 -- a broken triton must not stop training: torch is always there
            warnings.warn(f"optim.kernels.{name} did not import ({type(e).__name__}: {e}); using the torch path")
            return None
        # the interpreter is for tests on CPU; under it CUDA tensors take the torch path. AUTO: whether the kernel
        # beat the torch path where it was measured (each module says where); a slower one runs only when asked
        return module if module.AUTO and not module.INTERPRETED and module.supported(tensors) else None
    check_mode(mode, option)
    if not HAS_TRITON:
        raise RuntimeError(f"{option}='triton' needs the triton package (pip install triton); "
                           f"use {option}='auto' or 'torch' without it")
    module = importlib.import_module(f'optim.kernels.{name}')
    on_cpu = [t.device.type for t in tensors if not t.is_cuda]
    if on_cpu and not module.INTERPRETED:
        raise RuntimeError(f"{option}='triton' needs CUDA tensors (got {on_cpu[0]}); to run the kernel on CPU set "
                           f"TRITON_INTERPRET=1 before optim.kernels.{name} is imported, else use 'auto' or 'torch'")
    return module
