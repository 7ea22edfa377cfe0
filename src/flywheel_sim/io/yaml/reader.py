"""Reading models from YAML text (our format, see docs/model-format.md).

YAML is parsed with PyYAML's safe loader; every mapping keeps the line of each key so that
errors name ``file:line``. Equations are parsed here (syntax errors surface at load time).
PyYAML is imported when a YAML text is read, so loading an XMILE file does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.model import (
    Dimension,
    Element,
    GraphicalFunction,
    Kind,
    Link,
    LoopSpec,
    Model,
    TimeSpec,
)
from flywheel_sim.spec.parser import parse
from flywheel_sim.spec.size import check_dimension_size, collector_paused

if TYPE_CHECKING:
    import yaml

    from flywheel_sim.spec.analyses import DiagnosticsSpec, History, Report
    from flywheel_sim.spec.layout import Layout

MAX_YAML_VALUES = 2_000_000
MAX_YAML_DEPTH = 100  # mappings and lists inside each other; a model uses about five
_STR = "tag:yaml.org,2002:str"
_LOOKUP_KEYS = frozenset(
    {
        "points",
        "xs",
        "ys",
        "interpolation",
        "extrapolation",
        "unit",
        "input_unit",
        "description",
        "source",
    }
)


class Node(dict[str, Any]):
    """A YAML mapping that remembers the line (1-based) of itself and of each key."""

    line: int | None = None
    key_lines: dict[str, int]


class Reader:
    """Turns one YAML text into a Model, remembering the file for error messages."""

    def __init__(self, text: str, file: str | None) -> None:
        self.text = text
        self.file = file

    def error(
        self, message: str, line: int | None, variable: str | None = None, hint: str | None = None
    ) -> ModelError:
        return ModelError(message, file=self.file, line=line, variable=variable, hint=hint)

    # -- YAML -> nodes ------------------------------------------------------------------------
    def document(self) -> Node:
        import yaml

        try:
            # libyaml's parser when PyYAML has it (ten times faster on amazon's 1,300 lines);
            # the same safe constructor and the same marks either way
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(self.text)
        except yaml.YAMLError as exc:
            raise self._syntax_error(exc) from None
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise self._syntax_error(exc) from None
        except RecursionError:  # PyYAML's pure-Python composer recurses once per level
            raise self._too_deep(1) from None
        finally:
            loader.dispose()
        if root is None:
            raise self.error("the model file is empty", 1)
        self.budget = MAX_YAML_VALUES
        self.depth = 0
        self.seen: dict[int, Any] = {}
        self.active: set[int] = set()
        self.scalar_node = yaml.ScalarNode
        data = self.convert(root, loader)
        if not isinstance(data, Node):
            raise self.error("a model file must be a mapping (name:, time:, stocks: ...)", 1)
        return data

    def _syntax_error(self, exc: yaml.YAMLError) -> ModelError:
        import yaml

        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if isinstance(exc, yaml.scanner.ScannerError) and context is not None:
            mark = context  # e.g. an unclosed quote: point where it opened, not at the end
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        what = getattr(exc, "context", None)
        text = f"{what}: {problem}" if what and problem else problem
        return self.error(
            f"YAML syntax error: {' '.join(str(text).split())}",
            mark.line + 1 if mark is not None else None,
        )

    def convert(self, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
        """YAML nodes to Python values. Aliases are shared, not copied, but every use counts
        against MAX_YAML_VALUES so an alias bomb is refused at once; cycles are refused."""
        # most nodes are scalars: no nesting and no cycle, and each use costs one value
        if node.__class__ is self.scalar_node:
            self.budget -= 1
            if self.budget < 0:
                self.spend(0, node)
            if node.tag == _STR:
                return node.value
            return self._scalar(node, loader)
        key = id(node)
        if key in self.active:
            raise self.error("a YAML alias refers to itself", node.start_mark.line + 1)
        if key in self.seen:
            value, size = self.seen[key]
            self.spend(size, node)
            return value
        before = self.budget
        self.active.add(key)
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise self._too_deep(node.start_mark.line + 1)
        try:
            value = self._convert(node, loader)
        finally:
            self.active.discard(key)
            self.depth -= 1
        self.seen[key] = (value, before - self.budget)
        return value

    def _too_deep(self, line: int) -> ModelError:
        return self.error(
            f"the YAML file nests more than {MAX_YAML_DEPTH} levels deep",
            line,
            hint="a model needs a few levels: name: {key: value}",
        )

    def spend(self, size: int, node: yaml.Node) -> None:
        self.budget -= size
        if self.budget < 0:
            raise self.error(
                f"the YAML file expands to more than {MAX_YAML_VALUES} values (through aliases)",
                node.start_mark.line + 1,
                hint="write the values out instead of aliasing them",
            )

    def _convert(self, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
        import yaml  # loaded by document(); here a look-up in sys.modules

        self.spend(1, node)
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = Node()
            out.line = line
            out.key_lines = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node, loader)
                if not isinstance(key, str | int | float) or isinstance(key, bool):
                    raise self.error(
                        "mapping keys must be plain names", key_node.start_mark.line + 1
                    )
                key = str(key)
                if key in out:
                    raise self.error(f"key '{key}' appears twice", key_node.start_mark.line + 1)
                out[key] = self.convert(value_node, loader)
                out.key_lines[key] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, loader) for item in node.value]
        raise AssertionError(f"unexpected YAML node {node!r}")  # scalars never reach here

    def _scalar(self, node: yaml.ScalarNode, loader: yaml.SafeLoader) -> Any:
        """A scalar that is not a plain string: the safe constructor's value, checked."""
        import yaml

        line = node.start_mark.line + 1
        try:
            value = loader.construct_object(node, deep=True)
        except ValueError as exc:
            if "integer string conversion" in str(exc):  # Python's limit of 4,300 digits
                raise self._too_large(node, line) from None
            first = " ".join(str(exc).split("\n")[0].split())
            raise self.error(f"YAML value error: {first}", line) from None
        except (yaml.YAMLError, TypeError, OverflowError) as exc:
            first = " ".join(str(getattr(exc, "problem", None) or exc).split("\n")[0].split())
            raise self.error(f"YAML value error: {first}", line) from None
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                float(value)  # every number of a model becomes a float
            except OverflowError:
                raise self._too_large(node, line) from None
        return value

    def _too_large(self, node: yaml.Node, line: int) -> ModelError:
        text = str(node.value)
        shown = text if len(text) <= 24 else f"{text[:12]}… "
        return self.error(
            f"number {shown}({len(text)} characters) is too large",
            line,
            hint="numbers must be below 1.8e308",
        )

    # -- helpers ------------------------------------------------------------------------------
    def check_keys(self, node: Node, allowed: set[str] | frozenset[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"allowed: {', '.join(sorted(allowed))}"
                if re.search(r"[()\s*/+^-]|^\d", key):
                    hint = (
                        'an equation with commas inside { } must be quoted: equation: "MAX(a, b)"'
                    )
                raise self.error(
                    f"unknown key '{key}' in {what}", node.key_lines.get(key), hint=hint
                )

    def number(self, value: Any, what: str, line: int | None) -> float:
        if isinstance(value, bool):
            raise self.error(f"{what} must be a number, not {value!r}", line)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*/\s*([0-9.eE+-]+)\s*", value)
            try:
                if match:
                    return float(match.group(1)) / float(match.group(2))
                return float(value)
            except (ValueError, ZeroDivisionError):
                pass
        raise self.error(f"{what} must be a number, not {value!r}", line)

    def flag(self, node: Node, key: str, name: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            raise self.error(
                f"{key} of '{name}' must be true or false, not {value!r}",
                node.key_lines.get(key),
                name,
            )
        return value

    def text_field(self, node: Node, key: str) -> str:
        value = node.get(key, "")
        if value is None:
            return ""
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        return str(value)

    def equation(self, value: Any, what: str, line: int | None, variable: str) -> str:
        if isinstance(value, bool) or value is None:
            raise self.error(f"{what} must be an equation, not {value!r}", line, variable)
        text = str(value)
        try:
            parse(text)
        except ModelError as exc:
            raise self.error(f"{exc.message} in {what}", line, variable, exc.hint) from None
        return text

    def section(self, doc: Node, key: str) -> Node:
        value = doc.get(key)
        if value is None:
            empty = Node()
            empty.key_lines = {}
            return empty
        if not isinstance(value, Node):
            raise self.error(
                f"'{key}' must be a mapping of names to definitions", doc.key_lines.get(key)
            )
        return value

    # -- model --------------------------------------------------------------------------------
    def model(self, default_name: str) -> Model:
        doc = self.document()
        self.check_keys(
            doc,
            {
                "name",
                "description",
                "time",
                "dimensions",
                "parameters",
                "stocks",
                "flows",
                "auxiliaries",
                "lookups",
                "loops",
                "source",
                "history",
                "report",
                "diagnostics",
                "units",
                "layout",
            },
            "the model",
        )
        elements: list[Element] = []
        builders: list[tuple[str, Callable[[str, Any, int | None], Element]]] = [
            ("parameters", self.parameter),
            ("stocks", self.stock),
            ("flows", self.flow),
            ("auxiliaries", self.aux),
            ("lookups", self.lookup_element),
        ]
        for section, build in builders:
            sec = self.section(doc, section)
            for name, body in sec.items():
                elements.append(build(name, body, sec.key_lines.get(name)))
        dims = self.section(doc, "dimensions")
        dimensions = tuple(self.dimension(n, v, dims.key_lines.get(n)) for n, v in dims.items())
        loops = self.section(doc, "loops")
        specs = tuple(self.loop(n, v, loops.key_lines.get(n)) for n, v in loops.items())
        try:
            return Model(
                name=str(doc.get("name") or default_name),
                elements=tuple(elements),
                time=self.time(doc),
                description=self.text_field(doc, "description"),
                dimensions=dimensions,
                loops=specs,
                history=self.history(doc),
                report=self.report(doc),
                diagnostics=self.diagnostics(doc),
                file=self.file,
                text=self.text,
                units=self.units(doc),
                layout=self.layout(doc),
            )
        except ModelError as exc:
            raise exc.located(file=self.file) from None

    def units(self, doc: Node) -> tuple[tuple[str, str], ...]:
        """The model's own unit words (``units: {customer: person, dozen: 12 item}``),
        checked here so that a bad definition names its line."""
        node = self.section(doc, "units")
        if not node:
            return ()
        from flywheel_sim.spec.units import unit_table  # only for a model with its own units

        out = []
        for name, text in node.items():
            line = node.key_lines.get(name)
            if isinstance(text, Node | list) or text is None:
                raise self.error(
                    f"unit '{name}' must be defined by a unit text", line, hint="customer: person"
                )
            out.append((str(name), str(text)))
            try:
                unit_table(out)
            except ModelError as exc:
                raise self.error(exc.message, line, hint=exc.hint) from None
        return tuple(out)

    def layout(self, doc: Node) -> Layout | None:
        """The diagram (``layout:``), read by :mod:`.layout`, imported only for a model with one."""
        if doc.get("layout") is None:
            return None
        from flywheel_sim.io.yaml.layout import read_layout

        return read_layout(self, doc)

    def history(self, doc: Node) -> History | None:
        node = doc.get("history")
        if node is None:
            return None
        from flywheel_sim.spec.analyses import AGGREGATES, History, HistorySeries

        line = doc.key_lines.get("history")
        if not isinstance(node, Node):
            raise self.error("history must be a mapping with data, time and series", line)
        self.check_keys(node, {"data", "time", "series"}, "history")
        series = node.get("series")
        if "data" not in node or not isinstance(series, Node) or not series:
            raise self.error(
                "history needs data: (a data set or CSV file) and series:",
                line,
                hint="series: {net_sales: {column: net_sales_usd_m}}",
            )
        out = []
        for variable, spec in series.items():
            spec_line = series.key_lines.get(variable)
            if isinstance(spec, str):
                spec = {"column": spec}
            if not isinstance(spec, dict) or "column" not in spec:
                raise self.error(f"history series '{variable}' needs a column", spec_line)
            aggregate = str(spec.get("aggregate", "point"))
            if aggregate not in AGGREGATES or set(spec) - {"column", "aggregate"}:
                raise self.error(
                    f"history series '{variable}' is malformed",
                    spec_line,
                    hint=f"column: <name>, aggregate: {'|'.join(AGGREGATES)}",
                )
            out.append(HistorySeries(variable, str(spec["column"]), cast(Any, aggregate)))
        data = node["data"]
        names = tuple(str(d) for d in data) if isinstance(data, list) else (str(data),)
        if not names or any(not n for n in names):
            raise self.error("history data must name a data set or CSV file (or a list)", line)
        return History(names, str(node.get("time", "year")), tuple(out), line)

    def report(self, doc: Node) -> Report | None:
        node = doc.get("report")
        if node is None:
            return None
        from flywheel_sim.spec.analyses import Report

        line = doc.key_lines.get("report")
        if not isinstance(node, Node):
            raise self.error("report must be a mapping with times and variables", line)
        self.check_keys(node, {"times", "variables", "chart"}, "report")
        times = node.get("times", [])
        variables = node.get("variables", [])
        chart = node.get("chart", [])
        if (
            not isinstance(times, list)
            or not isinstance(variables, list)
            or not isinstance(chart, list)
        ):
            raise self.error("report times, variables and chart must be lists", line)
        return Report(
            tuple(self.number(t, "report time", line) for t in times),
            tuple(str(v) for v in variables),
            tuple(str(v) for v in chart),
            line,
        )

    def diagnostics(self, doc: Node) -> DiagnosticsSpec | None:
        node = doc.get("diagnostics")
        if node is None:
            return None
        from flywheel_sim.spec.analyses import DiagnosticsSpec

        line = doc.key_lines.get("diagnostics")
        if not isinstance(node, Node):
            raise self.error(
                "diagnostics must be a mapping (push, stock, outcome, at, coast)", line
            )
        self.check_keys(node, {"push", "stock", "outcome", "at", "coast"}, "diagnostics")
        at = self.number(node["at"], "diagnostics at", line) if "at" in node else None
        text = {k: (str(node[k]) if k in node else None) for k in ("push", "stock", "outcome")}
        coast_at, stop = self.coast(node.get("coast"), node.key_lines.get("coast", line))
        return DiagnosticsSpec(
            text["push"], text["stock"], text["outcome"], at, line, coast_at, stop
        )

    def coast(
        self, node: Any, line: int | None
    ) -> tuple[float | None, tuple[tuple[str, float], ...]]:
        """``coast: {at: 2010, stop: [p, q]}`` (stopped at 0) or ``stop: {p: 0, q: 0.1}``."""
        if node is None:
            return None, ()
        fix = "coast: {at: 2010, stop: [reinvest_share, push_size]}"
        if not isinstance(node, Node) or "stop" not in node:
            raise self.error(
                "diagnostics coast needs stop: (the parameters to stop)", line, hint=fix
            )
        self.check_keys(node, {"at", "stop"}, "diagnostics coast")
        at = self.number(node["at"], "diagnostics coast at", line) if "at" in node else None
        raw = node["stop"]
        if isinstance(raw, list) and raw and all(isinstance(n, str) for n in raw):
            return at, tuple((n, 0.0) for n in raw)
        if isinstance(raw, Node) and raw:
            return at, tuple(
                (str(n), self.number(v, f"diagnostics coast stop {n}", line))
                for n, v in raw.items()
            )
        raise self.error(
            "diagnostics coast stop must list parameter names or map them to values",
            line,
            hint=fix,
        )

    def time(self, doc: Node) -> TimeSpec:
        node = doc.get("time")
        if node is None:
            raise self.error(
                "the model has no time settings",
                doc.line,
                hint="add time: {start: 0, stop: 100, dt: 1}",
            )
        if not isinstance(node, Node):
            raise self.error("time must be a mapping", doc.key_lines.get("time"))
        self.check_keys(node, {"start", "stop", "dt", "save_step", "units", "method"}, "time")
        line = node.line

        def num(key: str, default: float) -> float:
            if key not in node:
                return default
            return self.number(node[key], f"time {key}", node.key_lines.get(key))

        if "stop" not in node:
            raise self.error("time has no stop", line, hint="add stop: <end time>")
        save = node.get("save_step")
        try:
            return TimeSpec(
                start=num("start", 0.0),
                stop=num("stop", 0.0),
                dt=num("dt", 1.0),
                save_step=None if save is None else num("save_step", 1.0),
                units=str(node.get("units", "time")),
                method=str(node.get("method", "euler")).lower(),
            )
        except ModelError as exc:
            raise exc.located(file=self.file, line=line) from None

    def mapping(self, body: Any, kind: str, name: str, line: int | None, shorthand: str) -> Node:
        if isinstance(body, Node):
            return body
        shorthand_list = shorthand in ("points", "variables") and isinstance(body, list)
        if shorthand_list or (isinstance(body, str | int | float) and not isinstance(body, bool)):
            node = Node({shorthand: body})
            node.line, node.key_lines = line, {shorthand: line or 0}
            return node
        raise self.error(f"{kind} '{name}' must be a mapping or an equation", line, name)

    def common(self, node: Node, name: str, kind: Kind, line: int | None) -> dict[str, Any]:
        dims = node.get("dims", [])
        if isinstance(dims, str):
            dims = [dims]
        if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
            raise self.error(
                f"dims of '{name}' must be a list of dimension names",
                node.key_lines.get("dims"),
                name,
            )
        per_element: list[tuple[str, str]] = []
        elements = node.get("elements", {})
        if elements:
            if not isinstance(elements, Node):
                raise self.error(
                    f"elements of '{name}' must map element names to equations",
                    node.key_lines.get("elements"),
                    name,
                )
            for key, eq in elements.items():
                per_element.append(
                    (
                        key,
                        self.equation(
                            eq, f"element '{key}' of '{name}'", elements.key_lines.get(key), name
                        ),
                    )
                )
        return {
            "name": name,
            "kind": kind,
            "dims": tuple(dims),
            "element_equations": tuple(per_element),
            "unit": self.text_field(node, "unit"),
            "description": self.text_field(node, "description"),
            "source": self.text_field(node, "source"),
            "links": self.links(node, name),
            "line": line,
        }

    def links(self, node: Node, name: str) -> tuple[Link, ...]:
        raw = node.get("links")
        if raw is None:
            return ()
        if not isinstance(raw, Node):
            raise self.error(
                f"links of '{name}' must map source variables to their polarity and citation",
                node.key_lines.get("links"),
                name,
            )
        out = []
        for src, spec in raw.items():
            line = raw.key_lines.get(src)
            if isinstance(spec, str):
                spec = {"polarity": spec}
            if not isinstance(spec, dict):
                raise self.error(f"link {src} -> {name} must be a mapping", line, name)
            extra = set(spec) - {"polarity", "source"}
            if extra:
                raise self.error(
                    f"unknown key '{sorted(extra)[0]}' in link {src} -> {name}",
                    line,
                    name,
                    "allowed: polarity, source",
                )
            polarity = str(spec.get("polarity", "?"))
            if polarity not in ("+", "-", "?"):
                raise self.error(
                    f"link {src} -> {name} has polarity '{polarity}'",
                    line,
                    name,
                    "use '+', '-' or '?'",
                )
            out.append(Link(str(src), cast(Any, polarity), str(spec.get("source", ""))))
        return tuple(out)

    _COMMON: ClassVar[frozenset[str]] = frozenset(
        {"dims", "elements", "unit", "description", "source", "links"}
    )

    def parameter(self, name: str, body: Any, line: int | None) -> Element:
        node = self.mapping(body, "parameter", name, line, "default")
        self.check_keys(node, self._COMMON | {"default", "min", "max"}, f"parameter '{name}'")
        if "default" not in node:
            raise self.error(f"parameter '{name}' has no default", line, name)
        raw = node["default"]
        default: float | tuple[tuple[str, float], ...]
        if isinstance(raw, Node):
            default = tuple(
                (k, self.number(v, f"default of '{name}[{k}]'", raw.key_lines.get(k)))
                for k, v in raw.items()
            )
        else:
            default = self.number(raw, f"default of '{name}'", node.key_lines.get("default"))
        bounds = {
            k: self.number(node[k], f"{k} of '{name}'", node.key_lines.get(k))
            for k in ("min", "max")
            if k in node
        }
        fields = self.common(node, name, "parameter", line)
        fields.pop("element_equations")
        return Element(
            **fields, default=default, minimum=bounds.get("min"), maximum=bounds.get("max")
        )

    def stock(self, name: str, body: Any, line: int | None) -> Element:
        node = self.mapping(body, "stock", name, line, "initial")
        self.check_keys(
            node,
            self._COMMON | {"initial", "inflows", "outflows", "non_negative", "bounds"},
            f"stock '{name}'",
        )
        if "initial" not in node and not node.get("elements"):
            raise self.error(
                f"stock '{name}' has no initial value", line, name, "add initial: <equation>"
            )
        flows = {}
        for key in ("inflows", "outflows"):
            value = node.get(key, [])
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(
                    f"{key} of stock '{name}' must be a list of flow names",
                    node.key_lines.get(key),
                    name,
                )
            flows[key] = tuple(value)
        initial = (
            self.equation(
                node["initial"],
                f"initial value of stock '{name}'",
                node.key_lines.get("initial"),
                name,
            )
            if "initial" in node
            else ""
        )
        return Element(
            **self.common(node, name, "stock", line),
            equation=initial,
            inflows=flows["inflows"],
            outflows=flows["outflows"],
            non_negative=self.flag(node, "non_negative", name),
            bounds=self.bounds(node, name),
        )

    def bounds(self, node: Node, name: str) -> tuple[float | str | None, float | str | None] | None:
        """``bounds: [low, high]``: numbers, variable names or null at either end."""
        raw = node.get("bounds")
        if raw is None:
            return None
        line = node.key_lines.get("bounds")
        if not isinstance(raw, list) or len(raw) != 2:
            raise self.error(
                f"bounds of '{name}' must be a pair [low, high]",
                line,
                name,
                "e.g. bounds: [0, 1] or bounds: [0, customers]; null for no bound",
            )
        ends: list[float | str | None] = []
        for end in raw:
            if end is None or isinstance(end, str):
                ends.append(end.strip() if isinstance(end, str) else None)
            else:
                ends.append(self.number(end, f"bounds of '{name}'", line))
        low, high = ends
        if isinstance(low, float) and isinstance(high, float) and low > high:
            raise self.error(f"bounds of '{name}' are reversed: {low} > {high}", line, name)
        return (low, high)

    def flow(self, name: str, body: Any, line: int | None) -> Element:
        node = self.mapping(body, "flow", name, line, "equation")
        self.check_keys(
            node,
            self._COMMON | {"equation", "non_negative", "lookup", "bounds"},
            f"flow '{name}'",
        )
        table = None
        if "lookup" in node:
            table = self.graphical(node["lookup"], name, node.key_lines.get("lookup"))
        return Element(
            **self.common(node, name, "flow", line),
            equation=self.required_equation(node, name, "flow", line),
            non_negative=self.flag(node, "non_negative", name),
            lookup=table,
            bounds=self.bounds(node, name),
        )

    def aux(self, name: str, body: Any, line: int | None) -> Element:
        node = self.mapping(body, "auxiliary", name, line, "equation")
        self.check_keys(
            node, self._COMMON | {"equation", "lookup", "bounds"}, f"auxiliary '{name}'"
        )
        table = None
        if "lookup" in node:
            table = self.graphical(node["lookup"], name, node.key_lines.get("lookup"))
        return Element(
            **self.common(node, name, "aux", line),
            equation=self.required_equation(node, name, "auxiliary", line),
            lookup=table,
            bounds=self.bounds(node, name),
        )

    def required_equation(self, node: Node, name: str, kind: str, line: int | None) -> str:
        if "equation" not in node:
            if node.get("elements"):
                return ""
            raise self.error(
                f"{kind} '{name}' has no equation", line, name, "add equation: <expression>"
            )
        return self.equation(
            node["equation"], f"equation of '{name}'", node.key_lines.get("equation"), name
        )

    def lookup_element(self, name: str, body: Any, line: int | None) -> Element:
        node = self.mapping(body, "lookup", name, line, "points")
        self.check_keys(
            node,
            _LOOKUP_KEYS,
            f"lookup '{name}'",
        )
        return Element(
            name=name,
            kind="lookup",
            lookup=self.graphical(node, name, line),
            unit=self.text_field(node, "unit"),
            description=self.text_field(node, "description"),
            source=self.text_field(node, "source"),
            line=line,
        )

    def graphical(self, node: Any, name: str, line: int | None) -> GraphicalFunction:
        if not isinstance(node, Node):
            raise self.error(f"lookup of '{name}' must be a mapping with points", line, name)
        self.check_keys(
            node,
            _LOOKUP_KEYS,
            f"lookup of '{name}'",
        )
        if "points" in node:
            points = node["points"]
            if not isinstance(points, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in points
            ):
                raise self.error(
                    f"points of '{name}' must be a list of [x, y] pairs",
                    node.key_lines.get("points"),
                    name,
                )
            xs = [self.number(p[0], f"lookup x of '{name}'", line) for p in points]
            ys = [self.number(p[1], f"lookup y of '{name}'", line) for p in points]
        elif "xs" in node and "ys" in node:
            if not isinstance(node["xs"], list) or not isinstance(node["ys"], list):
                raise self.error(f"xs and ys of '{name}' must be lists of numbers", line, name)
            xs = [self.number(v, f"lookup x of '{name}'", line) for v in node["xs"]]
            ys = [self.number(v, f"lookup y of '{name}'", line) for v in node["ys"]]
        else:
            raise self.error(f"lookup of '{name}' needs points: [[x, y], ...]", line, name)
        interp = str(node.get("interpolation", "linear")).lower()
        extrap = str(node.get("extrapolation", "clamp")).lower()
        if interp not in ("linear", "discrete") or extrap not in ("clamp", "linear"):
            raise self.error(
                f"lookup of '{name}' has interpolation '{interp}' and extrapolation '{extrap}'",
                line,
                name,
                "interpolation: linear|discrete, extrapolation: clamp|linear",
            )
        kind = (
            "discrete"
            if interp == "discrete"
            else ("extrapolate" if extrap == "linear" else "continuous")
        )
        try:
            return GraphicalFunction(
                tuple(xs), tuple(ys), cast(Any, kind), self.text_field(node, "input_unit")
            )
        except ModelError as exc:
            raise self.error(f"{exc.message} in '{name}'", line, name) from None

    def dimension(self, name: str, body: Any, line: int | None) -> Dimension:
        if isinstance(body, Node):  # {elements: [...], maps_to: [Other] or {Other: pairs}}
            self.check_keys(body, {"elements", "maps_to"}, f"dimension '{name}'")
            dim = self.dimension(name, body.get("elements"), line)
            return self.dimension_maps(dim, body.get("maps_to", []), line)
        if isinstance(body, int) and not isinstance(body, bool) and body > 0:
            check_dimension_size(name, body, file=self.file, line=line)  # before making them
            return Dimension(name, tuple(str(i) for i in range(1, body + 1)), line)
        if not isinstance(body, list) or not body:
            raise self.error(f"dimension '{name}' must list its elements (or give a count)", line)
        check_dimension_size(name, len(body), file=self.file, line=line)
        return Dimension(name, tuple(str(e) for e in body), line)

    def dimension_maps(self, dim: Dimension, maps: Any, line: int | None) -> Dimension:
        """``maps_to: [Other]`` pairs elements in order; ``maps_to: {Other: [x, [y, z]]}``
        lists the element(s) of Other each element pairs with."""
        if isinstance(maps, str):
            maps = [maps]
        if isinstance(maps, list) and all(isinstance(t, str) for t in maps):
            return replace(dim, maps_to=tuple(maps))
        if not isinstance(maps, Node):
            raise self.error(f"maps_to of dimension '{dim.name}' must name dimensions", line)
        pairs = []
        for target, listed in maps.items():
            items = listed if isinstance(listed, list) else []
            if not items or not all(isinstance(i, str | list) for i in items):
                raise self.error(
                    f"maps_to '{target}' of dimension '{dim.name}' must list, for each element, "
                    "the element (or list of elements) it pairs with",
                    line,
                )
            pairs.append(
                (
                    str(target),
                    tuple(tuple(map(str, i)) if isinstance(i, list) else (str(i),) for i in items),
                )
            )
        return replace(dim, maps_to=tuple(t for t, _ in pairs), pairs=tuple(pairs))

    def loop(self, name: str, body: Any, line: int | None) -> LoopSpec:
        node = self.mapping(body, "loop", name, line, "variables")
        self.check_keys(node, {"variables", "polarity", "description", "source"}, f"loop '{name}'")
        variables = node.get("variables")
        if not isinstance(variables, list) or len(variables) < 1:
            raise self.error(f"loop '{name}' must list its variables in order", line)
        polarity = str(node.get("polarity", "?")).upper()
        if polarity not in ("R", "B", "?"):
            raise self.error(
                f"loop '{name}' has polarity '{polarity}'",
                line,
                hint="use R (reinforcing) or B (balancing)",
            )
        return LoopSpec(
            name,
            tuple(str(v) for v in variables),
            cast(Any, polarity),
            self.text_field(node, "description"),
            self.text_field(node, "source"),
            line,
        )


def loads_model(text: str, *, file: str | None = None, name: str = "model") -> Model:
    """Build a Model from YAML text."""
    with collector_paused():
        return Reader(text, file).model(name)


__all__ = ["MAX_YAML_VALUES", "Node", "Reader", "loads_model"]
