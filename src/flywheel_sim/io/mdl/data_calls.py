"""Vensim's GET XLS/DIRECT calls and data equations, turned into the Model's elements.

The reader (:mod:`flywheel_sim.io.mdl.reader`) hands each record that is a whole GET call here;
the numbers are read by :mod:`flywheel_sim.io.mdl.data` from the files in the model's folder:

- ``x[D] = GET XLS CONSTANTS(...)``: the record's values, as if written in the equation
  (parameters, one value per element);
- ``tab[D]( GET XLS LOOKUPS(...) )`` (or ``tab[D] = GET ...``): one lookup per element,
  named ``tab[d1]`` ... as the other element lookups;
- ``x[D] :HOLD BACKWARD: := GET XLS DATA(...)`` (``:INTERPOLATE:`` the default,
  ``:LOOK FORWARD:``, ``:RAW:``): one lookup per element over time, named ``x series[d1]``,
  and ``x`` an auxiliary calling it with TIME (:mod:`flywheel_sim.io.mdl.data_series`);
- ``D: GET XLS SUBSCRIPT(...)``: the range's elements;
- any other data equation (``x := d * k``): :mod:`flywheel_sim.io.mdl.data_equations`; the
  series GET DATA BETWEEN TIMES reads: :mod:`flywheel_sim.io.mdl.data_between`.

A model read from text (no folder) refuses them; so does a GET call inside a larger
expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data import read_constants, read_data, read_lookups, read_subscript
from flywheel_sim.io.mdl.data_between import between_tables, used_series
from flywheel_sim.io.mdl.data_equations import (
    DataEquations,
    data_constants,
    free_name,
    is_time_shift,
    shifted_points,
    time_shift,
)
from flywheel_sim.io.mdl.data_files import Where
from flywheel_sim.io.mdl.data_series import NA, FloatArray, data_method, data_table
from flywheel_sim.io.mdl.dataset import DataSet
from flywheel_sim.io.mdl.expr import parse_expression
from flywheel_sim.io.mdl.functions import Translator
from flywheel_sim.io.mdl.subscripts import RangeDef
from flywheel_sim.io.mdl.text import Record
from flywheel_sim.io.mdl.variables import Builder, Lhs
from flywheel_sim.spec.ast import Call, Expr, Var
from flywheel_sim.spec.model import Element, GraphicalFunction
from flywheel_sim.spec.names import canonical

GET = re.compile(r"\s*GET\s+(XLS|DIRECT)\s+(DATA|CONSTANTS|LOOKUPS|SUBSCRIPT)\s*\(", re.I)
KEYWORDS = (":INTERPOLATE:", ":HOLD BACKWARD:", ":LOOK FORWARD:", ":RAW:")
BETWEEN_NOTE = (
    "GET DATA BETWEEN TIMES is read as Vensim documents it; at a time that is not a whole "
    "number, Vensim's own output (SDEverywhere's getdata model) shows other values"
)
ARGS = {"DATA": 4, "CONSTANTS": 3, "LOOKUPS": 4, "SUBSCRIPT": 5}


def get_call(rhs: str, line: int, variable: str) -> tuple[str, list[str]] | None:
    """The function (``GET XLS DATA`` ...) and the texts of its arguments, when ``rhs`` is a
    whole GET call; None when it is not one."""
    if GET.match(rhs) is None:
        return None
    where: dict[str, Any] = {"line": line, "variable": variable}
    try:
        tree, _ = parse_expression(rhs)
    except ModelError as exc:
        raise exc.located(**where) from None
    if not isinstance(tree, Call) or not tree.func.startswith("GET "):
        raise ModelError("a GET call must be the whole equation", **where)
    func = tree.func
    wanted = ARGS[func.split()[-1]]
    texts = []
    for arg in tree.args:
        if not (isinstance(arg, Var) and arg.name[:1] == "'" and not arg.subscripts):
            raise ModelError(
                f"{func} takes texts in quotes ('file.xlsx', 'Sheet1', ...)",
                hint="write each argument in single quotes",
                **where,
            )
        texts.append(arg.name[1:-1])
    if len(texts) != wanted:
        raise ModelError(f"{func} takes {wanted} arguments, not {len(texts)}", **where)
    return func, texts


class DataCalls:
    """Reads the GET calls of one model, from the files in its folder ``root``."""

    def __init__(self, root: Path | None, file: str | None, dataset: DataSet | None = None) -> None:
        self.root = root
        self.file = file
        self.dataset = dataset
        self.lookup_records: dict[str, list[tuple[Record, Lhs]]] = {}  # GET LOOKUPS
        self.data_records: dict[str, list[tuple[Record, Lhs]]] = {}  # data equations
        self.file_records: dict[str, list[tuple[Record, Lhs]]] = {}  # data from a dataset
        self.notes: list[str] = []
        self.times: dict[str, list[FloatArray]] = {}  # each data series' known times
        self.raw: dict[str, dict[tuple[str, ...], tuple[FloatArray, FloatArray]]] = {}
        self.constant_values: Mapping[str, float] = {}
        self.derived = DataEquations({}, {}, set(), {})  # the other data equations (:=)

    def elements(
        self,
        variables: dict[str, list[tuple[Record, Lhs]]],
        lookups: set[str],
        builder: Builder,
        translator: Translator,
    ) -> list[Element]:
        """The GET calls' elements: constants become the records' values (in
        ``variables``), lookups and data series lookups; a data variable an equation (added to
        ``variables``) calling its series with TIME."""
        for records in variables.values():
            for record, lhs in records:
                self.constants(record, lhs, builder)
        out: list[Element] = []
        for group in self.lookup_records.values():
            out += self.lookups(group, builder)
        between = used_series([lhs.rhs for group in variables.values() for _, lhs in group])
        if between:
            self.notes.append(BETWEEN_NOTE)
        general = {k: g for k, g in self.data_records.items() if _general(g)}
        shifts = {k: g for k, g in self.data_records.items() if is_time_shift(g[0][1])}
        self.constant_values = translator.constants
        series = [*self.data_records.items(), *self.file_records.items()]
        for key, group in sorted(series, key=lambda item: item[0] in shifts):
            if key in general:
                continue
            hidden = free_name(f"{group[0][1].name} series", variables, lookups)
            out += self.lookups(group, builder, hidden, between=key in between)
            translator.data_series[key] = canonical(hidden)
            variables.setdefault(key, []).extend(
                (record, data_equation(lhs, hidden)) for record, lhs in group
            )
            translator.names.add(key)
        self.derived = DataEquations(
            translator.data_series,
            self.times,
            data_constants(variables, translator.dims, translator.positions),
            {},
        )
        for key, group in general.items():
            record, lhs = group[0]
            if len(group) > 1:
                raise ModelError(
                    "a data equation (:=) written element by element is not supported yet",
                    line=group[1][1].line,
                    variable=lhs.name,
                )
            self.derived.equations[key] = lhs
            translator.data_derived.add(key)
        for key, group in general.items():
            record, lhs = group[0]
            found, tables = self.derived.build(key, record, lhs, variables, lookups)
            variables.setdefault(key, []).append((record, found))
            translator.names.add(key)
            out += tables
        for element in out:
            if element.key in variables:
                raise ModelError(f"'{element.name}' is defined twice", line=element.line)
            translator.lookups.add(element.key)
        return out

    def macro_equation(
        self,
        key: str,
        record: Record,
        lhs: Lhs,
        variables: Mapping[str, object],
        translator: Translator,
        elements: list[Element],
    ) -> Lhs:
        """A data equation of a macro's copy (``X := historical``), as the model's own; its
        lookups are added to ``elements``."""
        self.derived.equations[key] = lhs
        translator.data_derived.add(key)
        found, tables = self.derived.build(key, record, lhs, variables, translator.lookups)
        elements.extend(tables)
        translator.lookups.update(e.key for e in tables)
        return found

    def where(self, record: Record, lhs: Lhs, func: str) -> Where:
        if self.root is None:
            raise ModelError(
                f"{func} reads a file beside the model, and this model was read from text",
                line=record.line,
                variable=lhs.name,
                hint="read the model from its file (load_mdl / flywheel run model.mdl)",
            )
        return Where(self.file, record.line, lhs.name, func)

    def subscript(self, record: Record, lhs: Lhs, func: str, args: list[str]) -> RangeDef:
        """``D: GET XLS SUBSCRIPT('file', 'tab', 'first', 'last', 'prefix')``."""
        if not func.endswith("SUBSCRIPT"):
            raise ModelError(
                f"{func} cannot define a subscript range",
                line=record.line,
                variable=lhs.name,
                hint="use GET XLS SUBSCRIPT or GET DIRECT SUBSCRIPT",
            )
        where = self.where(record, lhs, func)
        names = read_subscript(self.root, *args, where=where)
        return RangeDef(lhs.name, names, [], record.line)

    def constants(self, record: Record, lhs: Lhs, builder: Builder) -> None:
        """Replace a GET CONSTANTS equation by its values (element by element)."""
        found = get_call(lhs.rhs, lhs.line, lhs.name)
        if found is None or lhs.tree is not None:
            return
        func, args = found
        if not func.endswith("CONSTANTS"):
            raise ModelError(
                f"{func} must define a lookup or a data equation (:=)"
                if func.endswith(("DATA", "LOOKUPS"))
                else f"{func} must define a subscript range (D: {func}(...))",
                line=lhs.line,
                variable=lhs.name,
            )
        where = self.where(record, lhs, func)
        file, tab, cell = args
        shape = _shape(lhs, builder, where)
        values = read_constants(self.root, file, tab, cell, shape, where=where)
        flat = values.reshape(-1)
        if not np.isfinite(flat).all():
            raise where.error("a cell holds an infinite value", "give finite numbers")
        lhs.rhs = ", ".join(repr(float(v)) for v in flat)

    def lookups(
        self,
        group: list[tuple[Record, Lhs]],
        builder: Builder,
        hidden: str | None = None,
        *,
        between: bool = False,
    ) -> list[Element]:
        """The lookups of GET LOOKUPS records (``hidden`` None), or the series of GET DATA
        records as lookups named ``hidden`` (and, ``between``, the lookups GET DATA BETWEEN
        TIMES reads: :mod:`flywheel_sim.io.mdl.data_between`)."""
        lhss = [lhs for _, lhs in group]
        name = hidden or lhss[0].name
        dims = builder.variable_dims(name, lhss) if lhss[0].subs else ()
        out: dict[str, Element] = {}
        for record, lhs in group:
            shifted = time_shift(lhs, self.constant_values)
            if shifted is not None:  # x := TIME SHIFT(d, s): d's points moved by -s
                where = Where(self.file, record.line, lhs.name, "TIME SHIFT")
                cells: list[tuple[str, ...]] = builder.cells(lhs, dims)[0] if dims else [()]
                points = shifted_points(shifted, lhs, cells, self.raw)
            elif lhs.op:
                where, points = self.get_points(record, lhs, builder, dims)
            else:
                where, points = self.dataset_points(record, lhs, builder, dims)
            for cell, xs, ys in points:
                if hidden is None:
                    graph = GraphicalFunction(tuple(xs.tolist()), tuple(ys.tolist()))
                else:
                    method = data_method(lhs.keyword or None, where=where)
                    graph = data_table(xs, ys, method, where=where)
                element = Element(
                    name=f"{name}[{','.join(cell)}]" if cell else name,
                    kind="lookup",
                    lookup=graph,
                    unit=record.units.split("~")[0].split("[")[0].strip(),
                    description=record.comment,
                    line=record.line,
                )
                if element.key in out:
                    raise where.error(f"'{element.name}' is defined twice", "define it once")
                out[element.key] = element
                known = ~np.isnan(ys) & (ys != NA)
                self.times.setdefault(canonical(lhss[0].name), []).append(xs[known])
                self.raw.setdefault(canonical(lhss[0].name), {})[cell] = (xs, ys)
                if between:
                    for suffix, table in between_tables(xs[known], ys[known]).items():
                        copy = replace(element, name=f"{name} {suffix}" + element.name[len(name) :])
                        out[copy.key] = replace(copy, lookup=table, description=suffix)
        return list(out.values())

    def get_points(
        self, record: Record, lhs: Lhs, builder: Builder, dims: tuple[str, ...]
    ) -> tuple[Where, list[tuple[tuple[str, ...], FloatArray, FloatArray]]]:
        """Each element's x (or time) values and y values, read by a GET call."""
        func, args = _call(lhs)
        where = self.where(record, lhs, func)
        if lhs.excepts:
            raise where.error(":EXCEPT: is not supported yet", "list the elements")
        shape = _shape(lhs, builder, where)
        reader = read_data if func.endswith("DATA") else read_lookups
        file, tab, axis, first = args
        xs, values = reader(self.root, file, tab, axis, first, shape, where=where)
        cells = builder.cells(lhs, dims)[0] if dims else [()]
        rows = values.reshape(len(cells), len(xs))
        return where, [(cell, xs, ys) for cell, ys in zip(cells, rows, strict=True)]

    def dataset_points(
        self, record: Record, lhs: Lhs, builder: Builder, dims: tuple[str, ...]
    ) -> tuple[Where, list[tuple[tuple[str, ...], FloatArray, FloatArray]]]:
        """Each element's times and values, from the data files the user gave; an element
        the files lack is :NA: (Vensim: "data need not be available for all members of a
        subscript range"); a variable they lack entirely is refused."""
        where = Where(self.file, record.line, lhs.name, "data variable")
        key = canonical(lhs.name)
        cells = builder.cells(lhs, dims)[0] if dims else [()]
        dataset = self.dataset or DataSet()
        if key not in dataset.names():
            given = (
                f"none of {', '.join(dataset.files)} holds it"
                if dataset.files
                else ("no data file was given")
            )
            raise ModelError(
                f"'{lhs.name}' is a data variable (no equation; Vensim reads it from a "
                f"dataset), and {given}",
                line=record.line,
                variable=lhs.name,
                hint="give its series in a .dat, .tab or .csv file: flywheel run model.mdl "
                "--data FILE, or load_model(path, data_files=[FILE])",
            )
        out = []
        for cell in cells:
            found = dataset.get(key, cell)
            if found is None:
                name = f"{lhs.name}[{', '.join(_shown(builder, cell))}]" if cell else lhs.name
                self.notes.append(f"data variable {name} has no series in the data files: :NA:")
                out.append((cell, np.zeros(1), np.full(1, NA)))
            else:
                out.append((cell, found.times, found.values))
        return where, out


def data_keyword(lhs: Lhs) -> Lhs:
    """``x :HOLD BACKWARD: := ...`` (``lhs.op`` the keyword, ``lhs.rhs`` from it on): a data
    equation with its keyword; the keyword alone (data from a .vdf file) is refused."""
    after = lhs.rhs[lhs.rhs.index(":", 1) + 1 :].lstrip()
    if after.startswith(":="):
        return Lhs(
            lhs.name, lhs.subs, lhs.excepts, ":=", after[2:].strip(), lhs.line, keyword=lhs.op
        )
    if not after:  # x :HOLD BACKWARD: alone: its data come from a dataset
        return Lhs(lhs.name, lhs.subs, lhs.excepts, "", "", lhs.line, keyword=lhs.op)
    raise ModelError(
        "a data keyword before an equation other than := is not supported yet",
        line=lhs.line,
        variable=lhs.name,
        hint="read the data with x :KEYWORD: := GET XLS DATA(...)",
    )


def data_equation(lhs: Lhs, hidden: str) -> Lhs:
    """The data variable as an equation calling its series ``hidden`` with TIME."""
    time = Var("time")
    if lhs.subs:
        table = Var(canonical(hidden), tuple(canonical(s) for s in lhs.subs))
        tree: Expr = Call("LOOKUP", (table, time))
    else:
        tree = Call(canonical(hidden), (time,))
    return Lhs(lhs.name, lhs.subs, lhs.excepts, "=", lhs.rhs, lhs.line, tree=tree)


def _general(group: list[tuple[Record, Lhs]]) -> bool:
    """Whether the records are a data equation other than a GET DATA call."""
    return any(
        lhs.op == ":=" and get_call(lhs.rhs, lhs.line, lhs.name) is None and not is_time_shift(lhs)
        for _, lhs in group
    )


def _call(lhs: Lhs) -> tuple[str, list[str]]:
    found = get_call(lhs.rhs, lhs.line, lhs.name)
    if found is None:
        raise ModelError(
            "data equations (:=) other than GET XLS/DIRECT DATA are not supported yet",
            line=lhs.line,
            variable=lhs.name,
        )
    func = found[0]
    if not func.endswith(("DATA", "LOOKUPS")):
        raise ModelError(f"{func} cannot define a lookup or data", line=lhs.line, variable=lhs.name)
    return found


def _shown(builder: Builder, cell: tuple[str, ...]) -> list[str]:
    """The elements of ``cell`` (canonical) as the model writes them."""
    names = {canonical(e): e for d in builder.dims.values() for e in d.elements}
    return [names.get(e, e) for e in cell]


def _shape(lhs: Lhs, builder: Builder, where: Where) -> tuple[int, ...]:
    """The sizes of the subscript ranges on the left side (single elements left out)."""
    if lhs.excepts:
        raise where.error(":EXCEPT: is not supported yet", "list the elements")
    keys = [canonical(s) for s in lhs.subs]
    return tuple(len(builder.elements[k]) for k in keys if k in builder.dims)
