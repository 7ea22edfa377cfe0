"""Compile a Model into a Program: scalarise dimensions, expand stateful builtins, order the
equations (rejecting algebraic loops) and emit postfix code for the virtual machines."""

from __future__ import annotations

from functools import lru_cache

from flywheel_sim.compile.emit import Emitter
from flywheel_sim.compile.program import Program, Variable
from flywheel_sim.compile.scalarise import Scalariser
from flywheel_sim.compile.stateful import Expander
from flywheel_sim.spec.model import Model


@lru_cache(maxsize=64)
def compile_model(model: Model) -> Program:
    """Compile ``model``; ModelError (with file, line and variable) if it cannot run.

    Results are cached per model value, so simulating the same model again skips this step.
    """
    scalariser = Scalariser(model)
    instances = scalariser.run()
    instances, delays = Expander(instances, model.file).run()
    return Emitter(model, instances, scalariser.tables, delays).program()


__all__ = ["Program", "Variable", "compile_model"]
