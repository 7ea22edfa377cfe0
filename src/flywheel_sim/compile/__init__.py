"""Compile a Model into a Program: scalarise dimensions, expand stateful builtins, order the
equations (rejecting algebraic loops) and emit postfix code for the virtual machines."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flywheel_sim.compile.emit import Emitter
from flywheel_sim.compile.program import Program, Variable
from flywheel_sim.compile.scalarise import Scalariser
from flywheel_sim.compile.stateful import Expander
from flywheel_sim.limits import DEFAULT, Limits
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.size import check_model_size, collector_paused


class ProgramCache:
    """Compiled programs by (model, limits), least recently used dropped first, bounded by
    the number of programs and by the slots they hold together, so a few large models cannot
    keep gigabytes alive (``functools.lru_cache`` bounds the count only, and it keys on how
    the arguments were passed: ``f(m)`` and ``f(m, DEFAULT)`` would compile twice)."""

    def __init__(self, entries: int = 64, slots: int = 4_000_000) -> None:
        self.entries = entries
        self.slots = slots
        self._programs: OrderedDict[tuple[Model, Limits], Program] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Model, Limits]) -> Program | None:
        with self._lock:
            program = self._programs.get(key)
            if program is not None:
                self._programs.move_to_end(key)
            return program

    def put(self, key: tuple[Model, Limits], program: Program) -> None:
        if program.n_slots > self.slots:
            return  # larger than the whole cache: compiled again when asked again
        with self._lock:
            self._programs[key] = program
            self._programs.move_to_end(key)
            held = sum(p.n_slots for p in self._programs.values())
            while len(self._programs) > self.entries or held > self.slots:
                _, dropped = self._programs.popitem(last=False)
                held -= dropped.n_slots

    def clear(self) -> None:
        with self._lock:
            self._programs.clear()

    def __len__(self) -> int:
        return len(self._programs)


PROGRAMS = ProgramCache()


def compile_model(model: Model, limits: Limits = DEFAULT) -> Program:
    """Compile ``model``; ModelError (with file, line and variable) if it cannot run.

    Before expanding anything, its size is counted from its declarations: LimitError if a
    dimension, the scalar variables (with the terms of reductions over arrays) or the hidden
    variables of delays and smooths exceed ``limits`` (:mod:`flywheel_sim.limits`).

    Results are cached per model value and limits (:data:`PROGRAMS`, at most 64 programs of
    4,000,000 slots together), so simulating the same model again skips this step.
    """
    key = (model, limits)
    program = PROGRAMS.get(key)
    if program is None:
        program = _compile(model, limits)
        PROGRAMS.put(key, program)
    return program


def _compile(model: Model, limits: Limits) -> Program:
    check_model_size(model, limits)
    with collector_paused():
        scalariser = Scalariser(model)
        instances = scalariser.run()
        instances, delays = Expander(instances, model.file, model.time).run()
        return Emitter(model, instances, scalariser.tables, delays).program()


__all__ = ["PROGRAMS", "Program", "ProgramCache", "Variable", "compile_model"]
