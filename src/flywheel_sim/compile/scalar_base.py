"""The state shared by the steps of scalarising (compile/scalarise.py): the model's elements
and dimensions, the graphical functions met so far, the instance being made and its hidden
auxiliaries, and errors that name the file, line and variable."""

from __future__ import annotations

import itertools

from flywheel_sim.compile.instances import Inst
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Call, Expr, Num, Var
from flywheel_sim.spec.mappings import element_pairs
from flywheel_sim.spec.model import Element, GraphicalFunction, Model
from flywheel_sim.spec.names import canonical, canonical_elements


class ScalarBase:
    """What every step of scalarising reads and writes; ``resolve`` and ``call`` are
    defined by the steps (compile/references.py, compile/scalarise.py)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.elements = {e.key: e for e in model.elements}
        self.dims = {canonical(d.name): canonical_elements(d.elements) for d in model.dimensions}
        # each dimension's elements by name -> 0-based position, made when first asked: a
        # test of membership or a position in the tuple would scan it, once per element of
        # an equation over that dimension (n^2 for n elements)
        self.positions_cache: dict[str, dict[str, int]] = {}
        # dimension mappings (<isee:maps_to>), both ways: the dimensions each one pairs with
        self.maps: dict[str, set[str]] = {}
        for d in model.dimensions:
            for target in d.maps_to:
                self.maps.setdefault(canonical(d.name), set()).add(canonical(target))
                self.maps.setdefault(canonical(target), set()).add(canonical(d.name))
        self.pairings = element_pairs(model.dimensions)
        self.tables: list[GraphicalFunction] = []
        self.table_ids: dict[str, int] = {}
        self.current: Element | None = None
        self.dims_cache: dict[str, tuple[str, ...]] = {}
        self.own_cache: dict[str, dict[tuple[str, ...], str]] = {}
        self.default_cache: dict[str, dict[tuple[str, ...], float]] = {}
        self.hidden: list[Inst] = []  # hidden auxiliaries of the instance being made
        self.current_key = ""
        self.current_index: tuple[str, ...] = ()
        # a dimension used twice (X by X): its k-th use in the equation's own dimensions
        self.repeated: dict[tuple[str, int], str] = {}
        # the array functions' limits: RANK compares every pair of elements
        self.max_rank = 200
        self.vector_cache: dict[str, list[Expr]] = {}  # compile/vectors.py: ranks by vector
        self.reducing = False  # resolving the arguments of MIN/MAX with several arguments
        self.element_tables = {
            e.key.partition("[")[0] for e in model.elements if e.kind == "lookup" and "[" in e.key
        }

    def error(self, message: str, hint: str | None = None) -> ModelError:
        element = self.current
        if element is not None:
            kind = {"aux": "auxiliary"}.get(element.kind, element.kind)
            message = f"{message} in {kind} '{element.name}'"
        return ModelError(
            message,
            file=self.model.file,
            line=element.line if element else None,
            variable=element.name if element else None,
            hint=hint,
        )

    def dims_of(self, element: Element) -> tuple[str, ...]:
        dims = self.dims_cache.get(element.key)
        if dims is None:
            dims = self.dims_cache[element.key] = tuple(canonical(d) for d in element.dims)
        return dims

    def positions(self, dim: str) -> dict[str, int]:
        """The 0-based position of each element of ``dim``, by name."""
        found = self.positions_cache.get(dim)
        if found is None:
            members = self.dims[dim]
            found = self.positions_cache[dim] = dict(zip(members, range(len(members)), strict=True))
        return found

    def indices(self, element: Element) -> list[tuple[str, ...]]:
        return list(itertools.product(*(self.dims[d] for d in self.dims_of(element))))

    def hide(self, expr: Expr, part: str) -> Expr:
        """``expr`` as a hidden auxiliary of the current instance (computed once per DT),
        or as is when it is a number or a name."""
        if isinstance(expr, Num | Var):
            return expr
        key = f"{self.current_key}#{part}{len(self.hidden) + 1}"
        owner = self.current
        assert owner is not None
        self.hidden.append(Inst(key, "haux", expr, owner.name, owner.line))
        return Var(key)

    def table(self, element: Element) -> int:
        if element.key not in self.table_ids:
            assert element.lookup is not None
            self.table_ids[element.key] = len(self.tables)
            self.tables.append(element.lookup)
        return self.table_ids[element.key]

    def resolve(self, node: Expr, where: dict[str, str]) -> Expr:
        raise NotImplementedError  # compile/references.py

    def call(self, node: Call, where: dict[str, str]) -> Expr:
        raise NotImplementedError  # compile/scalarise.py
