"""The scalar instances the compiler makes from a model: one per element of each variable
(``x[amazon]``), plus the hidden ones that the stateful functions add."""

from __future__ import annotations

from dataclasses import dataclass

from flywheel_sim.spec.ast import Expr


@dataclass(slots=True)
class Inst:
    """One scalar slot of the compiled model (slotted, with tuples for the flows: a large
    array makes one per element)."""

    key: str
    kind: str  # stock flow aux parameter | hstock haux prev init
    expr: Expr
    owner: str  # display name of the model element it belongs to
    line: int | None
    element: str | None = None  # element key (None for hidden instances)
    index: tuple[str, ...] = ()
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    non_negative: bool = False
    src: str | None = None  # prev/init: the instance whose value they hold
    initial: Expr | None = None  # ACTIVE_INITIAL: the equation of its initial value


def instance_key(element: str, index: tuple[str, ...]) -> str:
    return f"{element}[{','.join(index)}]" if index else element
