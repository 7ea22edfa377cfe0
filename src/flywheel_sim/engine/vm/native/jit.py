"""Compiling a kernel's IR to machine code with LLVM (llvmlite), and keeping it.

llvmlite is numba's own binding to LLVM, so the native kernel needs nothing the ``fast`` extra
does not already install, and a single run does not import numba at all (its import and the
loading of its cached kernels took most of a fresh process's time). Code is generated for this
processor (its name and features, as numba does), so the vector ``pow`` of glibc's libmvec is
called with the calling convention it has here.

Modules under ``OPTIMISE_BELOW`` lines are optimised (LLVM's O2); larger ones are only
translated (O0): LLVM's optimisation grows faster than linearly with a module's size even in
pieces (:mod:`.equations` cuts long code into functions), and at O0 the code still runs
vector instructions over the rows. Machine code is kept in memory (the last
``KEEP`` kernels) and on disk (:mod:`.cache`), keyed by a hash of the IR and of what the code
depends on.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPTIMISE_BELOW = 12_000  # IR lines: optimise modules smaller than this (amazon, 7,900: O2
# compiles in 0.8 s instead of 0.2 s and runs its ensembles 1.65x faster; a generated model of
# 1,000 variables, 30,000 lines: 14 s at O2, 0.5 s at O0)
KEEP = 128  # kernels kept in memory (each with its execution engine)
_LOCK = threading.Lock()
_INIT_LOCK = threading.Lock()
_KERNELS: dict[str, Kernel] = {}
_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class Kernel:
    """A compiled kernel: ``call(ctx)`` runs it (the GIL is released while it runs)."""

    address: int
    engine: Any  # keeps the machine code alive
    call: Any


def _llvm() -> Any:
    """llvmlite's binding, initialised once (threads may ask at the same time: what they read
    is complete before ``llvm`` is set), with libmvec loaded when there is one."""
    if "llvm" not in _STATE:
        with _INIT_LOCK:
            if "llvm" not in _STATE:
                from llvmlite import binding as llvm

                llvm.initialize_native_target()
                llvm.initialize_native_asmprinter()
                _STATE["variant"] = pow_variant(llvm)
                _STATE["cpu"] = llvm.get_host_cpu_name()
                _STATE["features"] = llvm.get_host_cpu_features().flatten()
                _STATE["llvm"] = llvm
    return _STATE["llvm"]


def _machine(opt: int) -> Any:
    """A target machine for this processor (an execution engine owns the one it is given,
    so each compilation gets its own)."""
    llvm = _llvm()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(
        cpu=_STATE["cpu"], features=_STATE["features"], opt=opt, codemodel="jitdefault"
    )


def pow_variant(llvm: Any) -> tuple[int, str] | None:
    """(lanes, symbol) of the widest vector ``pow`` of glibc's libmvec this processor runs,
    or None; the same choice as :mod:`flywheel_sim.engine.vm.vecpow`."""
    from flywheel_sim.engine.vm.libmvec import variant

    return variant(llvm)


def variant() -> tuple[int, str] | None:
    _llvm()
    result: tuple[int, str] | None = _STATE["variant"]
    return result


def environment() -> tuple[str, ...]:
    """What compiled code depends on besides its IR: LLVM's and llvmlite's versions, this
    package's, the processor's name and features and the vector ``pow`` it calls."""
    from flywheel_sim import version

    llvm = _llvm()
    return (
        repr(llvm.llvm_version_info),
        _llvmlite_version(),
        version.__version__,
        _STATE["cpu"],
        _STATE["features"],
        repr(_STATE["variant"]),
    )


def compile_kernel(text: str) -> Kernel:
    """The machine code of IR ``text`` (its ``@kernel(i64*)``), keyed by the text itself."""
    from flywheel_sim.engine.vm.native import cache

    return kernel_for(cache.key(text, *environment()), lambda: text)


def kernel_for(name: str, make_text: Callable[[], str]) -> Kernel:
    """The kernel stored under ``name``: from this process's kernels, else from the disk
    cache (:mod:`.cache`), else compiled from ``make_text()`` (and stored there). ``name``
    must change whenever the text would."""
    from flywheel_sim.engine.vm.native import cache

    llvm = _llvm()
    with _LOCK:
        found = _KERNELS.get(name)
        if found is not None:
            return found
        code = cache.read(name)
        if code is None:
            text = make_text()
            code = _object_code(llvm, text, 2 if text.count("\n") < OPTIMISE_BELOW else 0)
            cache.write(name, code)
        kernel = _load(llvm, code)
        _KERNELS[name] = kernel
        while len(_KERNELS) > KEEP:
            _KERNELS.pop(next(iter(_KERNELS)))
        return kernel


def _llvmlite_version() -> str:
    import llvmlite

    return str(llvmlite.__version__)


def _object_code(llvm: Any, text: str, level: int) -> bytes:
    """IR ``text`` compiled to an object file for this processor at ``level`` (0 or 2)."""
    module = llvm.parse_assembly(text)
    machine = _machine(level)
    if level:
        options = llvm.create_pipeline_tuning_options(speed_level=level)
        builder = llvm.create_pass_builder(machine, options)
        builder.getModulePassManager().run(module, builder)
    return bytes(machine.emit_object(module))


def _load(llvm: Any, code: bytes) -> Kernel:
    """Object ``code`` linked into this process; its ``kernel`` as a callable."""
    empty = llvm.parse_assembly(f'target triple = "{llvm.get_process_triple()}"')
    engine = llvm.create_mcjit_compiler(empty, _machine(0))
    engine.add_object_file(llvm.ObjectFileRef.from_data(code))
    engine.finalize_object()
    address = engine.get_function_address("kernel")
    if not address:
        raise RuntimeError("the native kernel's object code has no 'kernel' function")
    call = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(address)
    return Kernel(address, engine, call)
