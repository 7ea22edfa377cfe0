"""Stella's containers read as arrays: ``MEAN(conveyor)``, ``MAX(queue)``... (XMILE 1.0
§3.7.1.3) read a conveyor's slats or a queue's batches, which the reader does not keep (it
keeps their totals). Finding such calls is shared by the conveyor and the queue expansions,
which each refuse them with their own words."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Call, Var, walk
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.parser import parse

# functions that, given a container alone, read its contents as an array; SUM(container) is
# its total, which is what the reader computes, so SUM is read
CONTAINER_FUNCTIONS = frozenset({"MEAN", "MIN", "MAX", "SIZE", "STDDEV", "PROD", "RANK"})


def container_reads(
    elements: tuple[Element, ...], containers: Collection[str]
) -> Iterator[tuple[Element, str, str]]:
    """Each (element, function, container key) where an equation calls one of
    :data:`CONTAINER_FUNCTIONS` on a container alone (``RANK`` also with its other
    arguments)."""
    for element in elements:
        for text in (element.equation, *(t for _, t in element.element_equations)):
            if not text.strip() or not any(key in text for key in containers):
                continue
            try:
                tree = parse(text)
            except ModelError:
                continue  # the equation's own error is reported where it is compiled
            for node in walk(tree):
                if (
                    isinstance(node, Call)
                    and node.func in CONTAINER_FUNCTIONS
                    and node.args
                    and (len(node.args) == 1 or node.func == "RANK")
                    and isinstance(node.args[0], Var)
                    and not node.args[0].subscripts
                    and node.args[0].name in containers
                ):
                    yield element, node.func, node.args[0].name
