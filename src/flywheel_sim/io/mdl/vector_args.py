"""The arguments of Vensim's vector and random functions, as our builtins take them.

Vensim names a vector by one of its elements or by the dimension it runs along: ``VECTOR
SORT ORDER(x[d], 1)``, ``VECTOR SELECT(sel[d!], x[d!], ...)``, ``VECTOR ELM MAP(x[e], 2)``;
our builtins take the whole vector, ``x[*]`` (``x[d.*]`` for ``x[d!]``: d's elements).
``ELMCOUNT(d)`` is the number of elements of ``d`` (a number, written in before the equation
is split per element, which would replace ``d`` by a position). A random function's seed
(stream): a constant's name is replaced by its value (another expression is folded when
the model is compiled: compile/random_vensim.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Subscript, Unary, Var, VarList
from flywheel_sim.spec.names import canonical

# the vector arguments of each function, and which of their subscripts become *:
# "last" the last one (the dimension the vector runs along), "last two" the last two (a
# matrix's rows and columns), "bang" those marked d!
VECTOR_ARGS: dict[str, tuple[tuple[int, ...], str]] = {
    "VECTOR SORT ORDER": ((0,), "last"),
    "VECTOR RANK": ((0,), "last"),
    "VECTOR REORDER": ((0,), "last"),
    "ALLOCATE BY PRIORITY": ((0, 1), "last"),
    "VECTOR SELECT": ((0, 1), "bang"),
    "INVERT MATRIX": ((0,), "last two"),
}

# the position of the seed (stream) among each random function's arguments
SEEDS = {
    "RANDOM UNIFORM": 2,
    "RANDOM NORMAL": 4,
    "RANDOM EXPONENTIAL": 4,
    "RANDOM POISSON": 5,
    "RANDOM TRIANGULAR": 5,
    "RANDOM BETA": 6,
    "RANDOM BINOMIAL": 6,
    "RANDOM NEGATIVE BINOMIAL": 6,
    "RANDOM WEIBULL": 5,
}


def _starred(arg: Expr, func: str, which: str) -> Expr:
    if which == "bang":
        starred = _unbang(arg)
        if starred == arg:
            raise ModelError(f"{func} needs its vectors marked with ! (x[dim!])")
        return starred
    if not isinstance(arg, Var) or not arg.subscripts:
        return arg  # an expression, or a variable without subscripts: as written
    if which == "last two":
        if len(arg.subscripts) < 2:
            raise ModelError(f"{func} needs a matrix: a variable with two subscripts")
        return Var(arg.name, (*arg.subscripts[:-2], "*", "*"))
    return Var(arg.name, (*arg.subscripts[:-1], "*"))


def _unbang(node: Expr) -> Expr:
    """``node`` with each ``x[d!]`` written ``x[d.*]``: the elements of ``d``, which may be
    a subrange of x's range (``x[*]`` would be all of x's range)."""
    if isinstance(node, Var):
        subs = tuple(
            f"{s[:-1]}.*" if isinstance(s, str) and s.endswith("!") else s for s in node.subscripts
        )
        return Var(node.name, subs)
    if isinstance(node, Unary):
        return Unary(node.op, _unbang(node.operand))
    if isinstance(node, Binary):
        return Binary(node.op, _unbang(node.left), _unbang(node.right))
    if isinstance(node, If):
        return If(_unbang(node.cond), _unbang(node.then), _unbang(node.orelse))
    if isinstance(node, Call):
        return Call(node.func, tuple(_unbang(a) for a in node.args))
    return node


def vector_args(func: str, args: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """``args`` with the vectors of a vector function written ``x[*]``."""
    spec = VECTOR_ARGS.get(func)
    if spec is None:
        return args
    places, which = spec
    return tuple(_starred(a, func, which) if i in places else a for i, a in enumerate(args))


def seed_value(
    func: str, args: tuple[Expr, ...], constants: Mapping[str, float]
) -> tuple[Expr, ...]:
    """``args`` with a random function's seed given as a constant's name replaced by its
    value."""
    place = SEEDS.get(func)
    if place is None or len(args) <= place:
        return args
    seed = args[place]
    if isinstance(seed, Var) and not seed.subscripts and seed.name in constants:
        seed = Num(constants[seed.name])
    return (*args[:place], seed, *args[place + 1 :])


def profile_args(args: tuple[Expr, ...], dims: Mapping[str, tuple[str, ...]]) -> tuple[Expr, ...]:
    """``ALLOCATE AVAILABLE(request[d], pp[d, ptype], avail)``: ``request[*]``, then the
    profile's type, priority and width as vectors (``pp[*, ptype]``, ``pp[*, ppriority]``,
    ``pp[*, pwidth]``: the element named and the two after it in its range, as Vensim reads
    the priority profile), then ``avail``."""
    request, profile, avail = args
    subs = profile.subscripts if isinstance(profile, Var) else ()
    first = subs[-1] if len(subs) >= 2 else None
    if not isinstance(first, str) or first in dims or first.endswith("!") or first == "*":
        raise ModelError(
            "ALLOCATE AVAILABLE takes its priority profile as pp[d, ptype]: the requests' "
            "range second last and the first element of the profile's range last"
        )
    assert isinstance(profile, Var)
    whole = largest({first}, dims)
    start = whole.index(first)
    if len(whole) < start + 3:
        raise ModelError(
            f"ALLOCATE AVAILABLE's priority profile needs ptype, ppriority and pwidth: "
            f"'{first}' is not followed by two elements in its range"
        )
    parts = tuple(
        Var(profile.name, (*subs[:-2], "*", element)) for element in whole[start : start + 3]
    )
    return (_starred(request, "ALLOCATE AVAILABLE", "last"), *parts, avail)


OPTIONS = {"VECTOR SELECT": (3, 4)}  # its action and error action


def option_values(
    func: str, args: tuple[Expr, ...], constants: Mapping[str, float]
) -> tuple[Expr, ...]:
    """``args`` with an option that must be a number (VECTOR SELECT's action) given as a
    constant's name replaced by its value (``VSSUM = 0`` ... ``VECTOR SELECT(..., VSSUM,
    VSERRATLEASTONE)``, as SDEverywhere's test models write it)."""
    places = OPTIONS.get(func, ())
    return tuple(
        Num(constants[a.name])
        if i in places and isinstance(a, Var) and not a.subscripts and a.name in constants
        else a
        for i, a in enumerate(args)
    )


def largest(members: set[str], dims: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The elements of the largest range holding ``members`` (a vector's own range)."""
    holding = [els for els in dims.values() if members <= set(els)]
    if not holding:
        raise ModelError(f"no subscript range holds {', '.join(sorted(members))}")
    return max(holding, key=len)


def _position(sub: Subscript, dims: Mapping[str, tuple[str, ...]]) -> tuple[Expr, int]:
    """The 1-based position of an element (or of a dimension's current element) in the
    largest range holding it, and that range's size."""
    if not isinstance(sub, str) or sub.endswith("!") or sub == "*":
        raise ModelError("VECTOR ELM MAP takes an element or a dimension (x[e])")
    if sub in dims:
        members = dims[sub]
        whole = largest(set(members), dims)
        places = [whole.index(e) + 1.0 for e in members]
        if places == [float(i) for i in range(1, len(members) + 1)]:
            return Var(sub), len(whole)  # the dimension's name: its element's position
        out: Expr = Num(places[-1])
        for i in range(len(members) - 1, 0, -1):
            out = If(Binary("=", Var(sub), Num(float(i))), Num(places[i - 1]), out)
        return out, len(whole)
    whole = largest({sub}, dims)
    return Num(whole.index(sub) + 1.0), len(whole)


def elm_map(args: tuple[Expr, ...], dims: Mapping[str, tuple[str, ...]]) -> tuple[Expr, Expr]:
    """``VECTOR ELM MAP(x[e], offset)``: ``x[*]`` and the flat 1-based position (row-major
    over the whole array) of ``e`` plus the offset."""
    vector, offset = args
    if not isinstance(vector, Var) or not vector.subscripts:
        raise ModelError("VECTOR ELM MAP takes an element of an array (x[e]) first")
    start: Expr | None = None
    for sub in vector.subscripts:
        place, size = _position(sub, dims)
        if start is None:
            start = place
        else:  # row-major: the rows before, then the place in this row
            start = Binary("+", Binary("*", Binary("-", start, Num(1.0)), Num(size)), place)
    assert start is not None
    whole = Var(vector.name, tuple("*" for _ in vector.subscripts))
    return whole, Binary("+", start, offset)


def count_elements(node: Expr, dims: Mapping[str, tuple[str, ...]]) -> Expr:
    """``node`` with each ``ELMCOUNT(d)`` replaced by the number of elements of ``d``."""
    if isinstance(node, Call):
        if node.func == "ELMCOUNT":
            arg = node.args[0] if len(node.args) == 1 else None
            name = canonical(arg.name) if isinstance(arg, Var) and not arg.subscripts else ""
            if name not in dims:
                raise ModelError("ELMCOUNT takes the name of a subscript range")
            return Num(float(len(dims[name])))
        return Call(node.func, tuple(count_elements(a, dims) for a in node.args))
    if isinstance(node, Unary):
        return Unary(node.op, count_elements(node.operand, dims))
    if isinstance(node, Binary):
        return Binary(node.op, count_elements(node.left, dims), count_elements(node.right, dims))
    if isinstance(node, If):
        return If(*(count_elements(n, dims) for n in (node.cond, node.then, node.orelse)))
    if isinstance(node, VarList):
        return VarList(tuple(count_elements(i, dims) for i in node.items))
    return node
