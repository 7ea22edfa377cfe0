"""Compile a Model into a Program: scalarise dimensions, expand stateful builtins, order the
equations (rejecting algebraic loops) and emit postfix code for the virtual machines."""

from __future__ import annotations

from functools import lru_cache

from flywheel_sim.compile.emit import Emitter
from flywheel_sim.compile.program import Program, Variable
from flywheel_sim.compile.scalarise import Scalariser
from flywheel_sim.compile.stateful import Expander
from flywheel_sim.limits import DEFAULT, Limits
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.size import check_model_size, collector_paused


@lru_cache(maxsize=64)
def compile_model(model: Model, limits: Limits = DEFAULT) -> Program:
    """Compile ``model``; ModelError (with file, line and variable) if it cannot run.

    Before expanding anything, its size is counted from its declarations: LimitError if a
    dimension, the scalar variables (with the terms of reductions over arrays) or the hidden
    variables of delays and smooths exceed ``limits`` (:mod:`flywheel_sim.limits`).

    Results are cached per model value, so simulating the same model again skips this step.
    """
    check_model_size(model, limits)
    with collector_paused():
        scalariser = Scalariser(model)
        instances = scalariser.run()
        instances, delays = Expander(instances, model.file).run()
        return Emitter(model, instances, scalariser.tables, delays).program()


__all__ = ["Program", "Variable", "compile_model"]
