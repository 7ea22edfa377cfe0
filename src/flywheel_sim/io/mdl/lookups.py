"""Lookup tables of an array's elements: ``tab[a1]( (0,0), (1,2) )``, ``tab[D]( ... )``.

Each element gets a lookup of its own, named ``tab[a1]`` (``tab[a1,b2]`` over two ranges), as
the XMILE reader names the graphical function of an array's element; a call ``tab[D](x)`` in
an equation over ``D`` is written per element and calls ``tab[a1]``, ``tab[a2]`` ... in turn.
"""

from __future__ import annotations

import math
from dataclasses import replace

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import Table
from flywheel_sim.io.mdl.text import Record
from flywheel_sim.io.mdl.variables import Builder, Lhs
from flywheel_sim.spec.model import Element, GraphicalFunction


def element_tables(builder: Builder, group: list[tuple[Record, Lhs, Table]]) -> list[Element]:
    """One lookup element per element the records define."""
    lhss = [lhs for _, lhs, _ in group]
    name = lhss[0].name
    dims = builder.variable_dims(name, lhss)
    out: dict[str, Element] = {}
    for record, lhs, table in group:
        try:
            cells, _ = builder.cells(lhs, dims)
            graph = GraphicalFunction(table.xs, table.ys)
        except ModelError as exc:
            raise exc.located(line=lhs.line, variable=name) from None
        for cell in cells:
            element = Element(
                name=f"{name}[{','.join(cell)}]",
                kind="lookup",
                lookup=graph,
                unit=record.units.split("[")[0].strip(),
                description=record.comment,
                line=record.line,
            )
            if element.key in out:
                raise ModelError(
                    f"the lookup table '{element.name}' is defined twice",
                    line=record.line,
                    variable=name,
                )
            out[element.key] = element
    return list(out.values())


def lookup_variants(elements: list[Element], variants: dict[str, tuple[str, str]]) -> list[Element]:
    """The copies of lookup tables that LOOKUP EXTRAPOLATE, LOOKUP FORWARD and LOOKUP BACKWARD
    call (``variants``: the copy's name -> (the table's key, the mode)). EXTRAPOLATE extends the
    end segments' lines; BACKWARD is the step function holding each point's y up to the next
    point (XMILE's discrete table); FORWARD gives the y of the first point at or above x: the
    same step function with each later point moved to just after the point before it (the
    next float up), so that at a point's own x the earlier y still holds. Beyond the ends the
    end values hold."""
    tables = {e.key: e for e in elements if e.kind == "lookup" and e.lookup is not None}
    out = []
    for name, (key, mode) in variants.items():
        source = tables[key]
        graph = source.lookup
        assert graph is not None
        if mode == "extrapolate":
            graph = replace(graph, kind="extrapolate")
        elif mode == "backward":
            graph = replace(graph, kind="discrete")
        else:
            xs = (graph.xs[0], *(math.nextafter(x, math.inf) for x in graph.xs[:-1]))
            graph = replace(graph, xs=xs, kind="discrete")
        out.append(replace(source, name=name, lookup=graph, description=f"{mode} reading"))
    return out
