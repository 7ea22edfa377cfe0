"""Which vector ``pow`` of glibc's libmvec the kernels call on this machine (none imports numba).

Both the numba kernels (:mod:`flywheel_sim.engine.vm.vecpow`) and the native kernel
(:mod:`flywheel_sim.engine.vm.native`) take the widest variant this processor runs, so that a
power gives the same bits in all of them.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
from typing import Any


def variant(llvm: Any) -> tuple[int, str] | None:
    """(lanes, symbol) of the widest vector ``pow`` this machine can call (loading libmvec
    into the process so that LLVM-compiled code finds it), or None: not x86-64, no libmvec,
    or numba told to compile for another processor (``NUMBA_CPU_NAME``)."""
    if platform.machine() not in ("x86_64", "AMD64") or os.environ.get("NUMBA_CPU_NAME"):
        return None
    path = ctypes.util.find_library("mvec")
    if path is None:
        return None
    try:
        llvm.load_library_permanently(path)
    except RuntimeError:
        return None
    features = llvm.get_host_cpu_features()
    if features.get("avx512f"):
        return 8, "_ZGVeN8vv_pow"
    if features.get("avx2") and features.get("fma"):
        return 4, "_ZGVdN4vv_pow"
    return 2, "_ZGVbN2vv_pow"  # SSE2: every x86-64
