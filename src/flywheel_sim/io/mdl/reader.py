"""Read a Vensim ``.mdl`` file into an ordinary :class:`~flywheel_sim.spec.model.Model`.

The file's records (:mod:`~flywheel_sim.io.mdl.text`) are subscript ranges
(:mod:`~flywheel_sim.io.mdl.subscripts`), lookups, the control section (INITIAL TIME,
FINAL TIME, TIME STEP, SAVEPER) and variables (:mod:`~flywheel_sim.io.mdl.variables`); the
expressions are parsed by :mod:`~flywheel_sim.io.mdl.expr` and their functions translated by
:mod:`~flywheel_sim.io.mdl.functions`. ``x = INTEG(rate, initial)`` is a stock whose flows are
the variables added and subtracted in ``rate`` (or one net flow when the rate is anything
else); a constant is a parameter; the rest are auxiliaries. Nothing is evaluated.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data_calls import DataCalls, get_call
from flywheel_sim.io.mdl.dataset import DataSet, read_datasets
from flywheel_sim.io.mdl.expr import Table, constant, parse_expression, parse_table
from flywheel_sim.io.mdl.flows import attach_flows
from flywheel_sim.io.mdl.functions import Translator
from flywheel_sim.io.mdl.lookup_vectors import vector_elements
from flywheel_sim.io.mdl.lookups import element_tables, lookup_variants
from flywheel_sim.io.mdl.macros import Expander, Macro, read_macro
from flywheel_sim.io.mdl.records import REALITY_CHECKS, split_equation, split_units
from flywheel_sim.io.mdl.sketch import read_sketch
from flywheel_sim.io.mdl.subscripts import (
    RangeDef,
    build_dimensions,
    element_positions,
    read_range,
)
from flywheel_sim.io.mdl.text import Document, Record, decode, read_document
from flywheel_sim.io.mdl.variables import Builder, Lhs, Variable, parse_values
from flywheel_sim.spec.ast import Num, to_text
from flywheel_sim.spec.builtins import CONSTANT_NAMES
from flywheel_sim.spec.model import Dimension, Element, GraphicalFunction, Model, TimeSpec
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.rename import rename_elements, renaming_notes, reserved_renames

MAX_FILE_BYTES = 20_000_000
CONTROL = ("initial_time", "final_time", "time_step", "saveper")
_TABLE_CALL = re.compile(r"\(\s*([^\W\d][\w ]*?)\s*\(")


def load_mdl(path: str | Path, *, data_files: Sequence[str | Path] = ()) -> Model:
    """Read the Vensim model at ``path``; its data variables without an equation take their
    series from ``data_files`` (.dat, .tab, .csv: :mod:`flywheel_sim.io.mdl.dataset`)."""
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file '{file}' does not exist")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise ModelError(f"model file '{file}' is larger than {MAX_FILE_BYTES} bytes")
    text = decode(file.read_bytes())
    root = file.resolve().parent
    return loads_mdl(text, file=str(file), name=file.stem, root=root, data_files=data_files)


def loads_mdl(
    text: str,
    *,
    file: str | None = None,
    name: str = "model",
    root: Path | None = None,
    data_files: Sequence[str | Path] = (),
) -> Model:
    """Read a Vensim model from its text; GET XLS/DIRECT calls read files in folder ``root``
    (refused without one); data variables without an equation read ``data_files``."""
    if isinstance(data_files, str | Path):
        data_files = (data_files,)
    dataset = read_datasets(data_files)
    try:
        return MdlReader(text, file, name, root, dataset).read()
    except ModelError as exc:
        raise exc.located(file=file) from None


# our equations' constants that are plain names in Vensim (whose clock is Time, whose step is
# TIME STEP): a Vensim variable so named is renamed ("DT" becomes "DT variable")
SHADOWING = frozenset(CONSTANT_NAMES) - {"time"}


class MdlReader:
    def __init__(
        self,
        text: str,
        file: str | None,
        name: str,
        root: Path | None = None,
        dataset: DataSet | None = None,
    ) -> None:
        self.doc: Document = read_document(text, file)
        self.data = DataCalls(root, self.doc.file, dataset)
        self.name = name
        self.ranges: list[RangeDef] = []
        self.lookups: dict[str, tuple[Record, Lhs, Table]] = {}
        self.variables: dict[str, list[tuple[Record, Lhs]]] = {}
        self.control: dict[str, tuple[Record, Lhs]] = {}
        self.element_lookups: dict[str, list[tuple[Record, Lhs, Table]]] = {}
        self.extra_notes: list[str] = []
        self.shadowing: dict[str, str] = {}  # variables named like our constants, renamed

    def read(self) -> Model:
        macros = self.collect()
        dims = build_dimensions(self.ranges, self.doc.file)
        time = self.time()
        translator = Translator(
            set(self.lookups),
            {canonical(d.name): tuple(canonical(e) for e in d.elements) for d in dims},
            time.save_step,
            set(self.variables),
            element_positions(dims),
            constants=self.constants(),
            renames={k: canonical(v) for k, v in self.shadowing.items()},
            tables={key: table for key, (_, _, table) in self.lookups.items()},
        )

        def sink(record: Record, lhs: Lhs) -> None:  # a variable of a macro's call
            key = canonical(lhs.name)
            if key in self.variables or key in self.lookups or key in self.data.data_records:
                raise ModelError(f"'{lhs.name}' is defined twice (once as a macro's output)")
            if lhs.op == ":=":  # a data equation of the macro's copy
                lhs = self.data.macro_equation(
                    key, record, lhs, self.variables, translator, elements
                )
            self.variables[key] = [(record, lhs)]
            translator.names.add(key)
            pending.append(key)

        names = {canonical(d.name) for d in dims}
        expander = Expander({m.name: m for m in macros}, sink, names)
        builder = Builder(dims, translator, expander, time.method)
        elements = [self.lookup(record, lhs, table) for record, lhs, table in self.lookups.values()]
        elements += self.data.elements(self.variables, set(self.lookups), builder, translator)
        pending = deque(self.variables)
        for group in self.element_lookups.values():
            tables = element_tables(builder, group)
            translator.lookups.update(e.key for e in tables)
            elements += tables
        stocks: dict[str, Any] = {}
        while pending:
            records = self.variables[pending.popleft()]
            record, lhs = records[0]
            variable = builder.variable(lhs.name, [lhs for _, lhs in records])
            try:
                elements.append(self.element(variable, record, builder, dims, stocks))
            except ModelError as exc:
                raise exc.located(line=variable.line, variable=variable.name) from None
        elements += lookup_variants(elements, translator.variants)
        elements += vector_elements(translator.vectors, dims)
        elements = attach_flows(elements, stocks, time.units)
        renames = reserved_renames(elements)  # a variable named 'seed', 'run' ...
        self.extra_notes += renaming_notes({**self.shadowing, **renames})
        elements = list(rename_elements(elements, renames))
        drawn = {e.key: e.name for e in elements}  # the sketch's names, also as written
        drawn.update({old: new for old, new in {**self.shadowing, **renames}.items()})
        return Model(
            name=self.name,
            elements=tuple(elements),
            time=time,
            dimensions=dims + tuple(builder.new_dims),
            file=self.doc.file,
            notes=(*self.extra_notes, *self.data.notes),
            layout=read_sketch(self.doc.sketch, drawn),
        )

    def constants(self) -> dict[str, float]:
        """The values of the constants of one number (a random function's seed)."""
        out = {}
        for key, records in self.variables.items():
            values = parse_values(records[0][1].rhs) if len(records) == 1 else None
            if values is not None and len(values) == 1 and not records[0][1].subs:
                out[key] = values[0]
        return out

    def collect(self) -> list[Macro]:
        """Sort the records (see :meth:`record`); a macro's records go to the macro."""
        macros = {header: read_macro(header, line) for header, line in self.doc.macros}
        for record in self.doc.records:
            if not record.macro:
                self.record(record)
                continue
            lhs = split_equation(record.equation, record.line)
            if lhs.op not in ("=", "==", ":="):
                raise ModelError(
                    "only equations and data equations are supported in a macro so far",
                    line=record.line,
                    variable=lhs.name,
                )
            macros[record.macro].body.append((record, lhs))
        return list(macros.values())

    def method(self) -> str:
        """Euler or RK4 as the settings say. Vensim's RK2 steps to the middle of the interval
        (the midpoint method), which is not our heun: refused; RK4 with automatic step is run
        with the fixed TIME STEP (noted)."""
        method = self.doc.method
        if method.startswith("rk2") or method.startswith("code"):
            raise ModelError(
                f"the integration method ({method.upper()}) is not supported yet",
                hint="use Euler or RK4 (Vensim: Model > Settings > Integration Type)",
            )
        if method == "rk4 auto":
            self.extra_notes.append(
                "Vensim's RK4 with automatic step size is run as RK4 with the fixed TIME STEP"
            )
        return method.split()[0]

    def record(self, record: Record) -> None:
        lhs = split_equation(record.equation, record.line)
        if lhs.op != ":" and canonical(lhs.name) in SHADOWING:  # a variable named DT, PI ...
            self.shadowing[canonical(lhs.name)] = lhs.name = f"{lhs.name} variable"
        where: dict[str, Any] = {"line": record.line, "variable": lhs.name}
        key = canonical(lhs.name)
        body, arrow, mapping = lhs.rhs.partition("->") if lhs.op == ":" else (lhs.rhs, "", "")
        call = get_call(body, record.line, lhs.name) if lhs.op in ("=", "==", ":", ":=") else None
        if lhs.op == ":" and call is not None:  # D: GET XLS SUBSCRIPT(...) -> E
            found = self.data.subscript(record, lhs, *call)
            if arrow:
                found.maps = read_range(lhs.name, "x -> " + mapping, record.line).maps
            self.ranges.append(found)
        elif lhs.op == ":":
            self.ranges.append(read_range(lhs.name, lhs.rhs, record.line))
        elif lhs.op == "<->":
            self.ranges.append(RangeDef(lhs.name, [], [], record.line, equivalent=lhs.rhs))
        elif lhs.op == "(":
            called = _TABLE_CALL.match(lhs.rhs)
            inner = lhs.rhs.strip()[1:-1] if lhs.rhs.strip().endswith(")") else ""
            if called is not None and get_call(inner, record.line, lhs.name) is not None:
                lhs.rhs = inner  # tab( GET XLS LOOKUPS(...) )
                self.data.lookup_records.setdefault(key, []).append((record, lhs))
                return
            if called is not None:
                name = " ".join(called.group(1).split()).upper()
                raise ModelError(f"{name} is not supported yet", **where)
            try:
                table = parse_table(lhs.rhs)
            except ModelError as exc:
                raise exc.located(**where) from None
            if lhs.subs or lhs.excepts:
                self.element_lookups.setdefault(key, []).append((record, lhs, table))
            else:
                self.lookups[key] = (record, lhs, table)
        elif lhs.op in REALITY_CHECKS:  # tests of the model, which do not change its run
            what = "reality check" if lhs.op == ":THE CONDITION:" else "reality check input"
            self.extra_notes.append(f"{what} '{lhs.name}' (line {record.line}) is not run")
        elif lhs.op == ":=" or (call is not None and call[0].endswith("DATA")):
            self.data.data_records.setdefault(key, []).append((record, lhs))
        elif call is not None and call[0].endswith("LOOKUPS"):
            self.data.lookup_records.setdefault(key, []).append((record, lhs))
        elif lhs.op == "":  # a data variable: its series come from the data files given
            self.data.file_records.setdefault(key, []).append((record, lhs))
        elif key in CONTROL:
            self.control[key] = (record, lhs)
        else:
            if key in self.lookups:
                raise ModelError(f"'{lhs.name}' is defined twice", **where)
            self.variables.setdefault(key, []).append((record, lhs))

    def time(self) -> TimeSpec:
        values: dict[str, float] = {}
        for key in CONTROL:
            if key in self.control:
                self.control_value(key, values, ())
        if "final_time" not in values:
            raise ModelError("the model has no FINAL TIME", hint="add FINAL TIME = ... to it")
        units = ""
        for key in ("time_step", "final_time", "initial_time"):
            if key in self.control and not units:
                units = split_units(self.control[key][0].units)[0]
        try:
            return TimeSpec(
                start=values.get("initial_time", 0.0),
                stop=values["final_time"],
                dt=values.get("time_step", 1.0),
                save_step=values.get("saveper"),
                units=units or "time",
                method=self.method(),
            )
        except ModelError as exc:
            line = self.control["final_time"][0].line
            raise exc.located(line=line) from None

    def control_value(self, key: str, values: dict[str, float], seen: tuple[str, ...]) -> float:
        """A control variable's value: a number, or an expression of numbers, the other
        control variables and constants (``FINAL TIME = start year + 30``)."""
        if key in values:
            return values[key]
        record, lhs = self.control[key]

        def value_of(name: str) -> float | None:
            if name in self.control and name not in seen and name != key:
                return self.control_value(name, values, (*seen, key))
            records = self.variables.get(name, [])
            if len(records) == 1 and not records[0][1].subs:
                found = parse_values(records[0][1].rhs)
                return found[0] if found is not None and len(found) == 1 else None
            return None

        try:
            value = constant(parse_expression(lhs.rhs)[0], value_of)
        except ModelError:
            value = None
        if value is None:
            raise ModelError(
                f"{lhs.name} computed while the model runs is not supported yet",
                line=record.line,
                variable=lhs.name,
                hint="give it a number, or an expression of numbers and constants",
            )
        values[key] = value
        return value

    def lookup(self, record: Record, lhs: Lhs, table: Table) -> Element:
        unit = split_units(record.units)[0]
        try:
            graph = GraphicalFunction(table.xs, table.ys)
        except ModelError as exc:
            raise exc.located(line=record.line, variable=lhs.name) from None
        return Element(
            name=lhs.name,
            kind="lookup",
            lookup=graph,
            unit=unit,
            description=record.comment,
            line=record.line,
        )

    def element(
        self,
        variable: Variable,
        record: Record,
        builder: Builder,
        dims: tuple[Dimension, ...],
        stocks: dict[str, Any],
    ) -> Element:
        unit, low, high = split_units(record.units)
        common: dict[str, Any] = {
            "name": variable.name,
            "dims": variable.dims,
            "unit": unit,
            "description": record.comment,
            "line": variable.line,
        }
        keys = [canonical(d) for d in variable.dims]
        display = {key: {canonical(e): e for e in d.elements} for key, d in builder.dims.items()}

        def key_of(cell: tuple[str, ...]) -> str:
            return ",".join(display[k][e] for k, e in zip(keys, cell, strict=True))

        defs = [d for d, _ in variable.definitions]
        if variable.kind == "const":
            if not variable.dims:
                value = defs[0].values[0]
                inside = (low is None or value >= low) and (high is None or value <= high)
                bounds: dict[str, Any] = {"minimum": low, "maximum": high} if inside else {}
                return Element(kind="parameter", default=value, **bounds, **common)
            per = []
            for d in defs:
                values = d.values * len(d.cells) if len(d.values) == 1 else d.values
                per += [(key_of(c), v) for c, v in zip(d.cells, values, strict=True)]
            return Element(kind="parameter", default=tuple(per), **common)
        if variable.kind == "withlookup":
            if not variable.whole:
                raise ModelError("WITH LOOKUP defined element by element is not supported yet")
            d = defs[0]
            assert d.expr is not None and d.table is not None
            graph = GraphicalFunction(d.table.xs, d.table.ys)
            text = to_text(builder.translate(d.expr))
            return Element(kind="aux", equation=text, lookup=graph, **common)
        part = "init" if variable.kind == "stock" else "expr"
        equation, per_element = self.equations(variable, builder, keys, key_of, part)
        if variable.kind != "stock":
            return Element(kind="aux", equation=equation, element_equations=per_element, **common)
        rates = self.equations(variable, builder, keys, key_of, "expr", text=False)
        stocks[canonical(variable.name)] = rates
        return Element(kind="stock", equation=equation, element_equations=per_element, **common)

    def equations(
        self,
        variable: Variable,
        builder: Builder,
        keys: list[str],
        key_of: Any,
        part: str,
        text: bool = True,
    ) -> Any:
        """The apply-to-all equation, or the equation of each element (as text, or as trees
        when ``text`` is false)."""
        render = to_text if text else (lambda tree: tree)
        defs = [d for d, _ in variable.definitions]
        if variable.whole:
            tree = getattr(defs[0], part)
            return render(builder.translate(tree)), ()
        out = []
        for d in defs:
            for cell in d.cells:
                if d.kind == "const":
                    values = d.values * len(d.cells) if len(d.values) == 1 else d.values
                    tree = Num(values[d.cells.index(cell)])
                else:
                    tree = builder.for_cell(getattr(d, part), d, tuple(keys), cell)
                out.append((key_of(cell), render(builder.translate(tree))))
        return "", tuple(out)
