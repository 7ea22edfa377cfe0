"""Opcodes of the flywheel-sim virtual machine.

A compiled equation is postfix code: pairs ``(op, arg)`` in an int64 array. ``arg`` is a
constant-pool index (CONST), a slot (LOAD/STORE), a lookup table (LOOKUP), a random site
(RANDOM...), a history buffer (DELAY, HISTORY) or the number of requesters of an allocation
(AVAILABLE, PRIORITY); other ops ignore it. Both VMs (NumPy,
vectorised over runs; numba, one run per loop) execute this same code.
"""

from __future__ import annotations

CONST, LOAD, STORE = 0, 1, 2
ADD, SUB, MUL, DIV, POW, NEG, NOT = 3, 4, 5, 6, 7, 8, 9
EQ, NE, LT, LE, GT, GE, AND, OR = 10, 11, 12, 13, 14, 15, 16, 17
SELECT, MOD, MIN, MAX = 18, 19, 20, 21
ABS, SQRT, EXP, LN, LOG10, SIN, COS, TAN, ASIN, ACOS, ATAN, INT = range(22, 34)
TIME, DT, START, STOP = 34, 35, 36, 37
LOOKUP, STEP, PULSE, RAMP, SAFEDIV = 38, 39, 40, 41, 42
RANDOM, NORMAL, LOGNORMAL, EXPRND, POISSON = 43, 44, 45, 46, 47
DELAY = 48
HISTORY = 49
# the market level of Vensim's ALLOCATE AVAILABLE / ALLOCATE BY PRIORITY (compile/allocate.py,
# compile/vectors.py), found by bisection in one op: arg = n, the number of requesters; they pop
# (request, ptype, priority, width) x n, low, high, avail (AVAILABLE: 4n + 3 values) and
# request x n, priority x n, width, low, high, supply (PRIORITY: 2n + 4 values)
AVAILABLE, PRIORITY = 50, 51
LEVELS = {"AVAILABLE_LEVEL": AVAILABLE, "PRIORITY_LEVEL": PRIORITY}

BINARY = {
    "+": ADD,
    "-": SUB,
    "*": MUL,
    "/": DIV,
    "^": POW,
    "=": EQ,
    "<>": NE,
    "<": LT,
    "<=": LE,
    ">": GT,
    ">=": GE,
    "AND": AND,
    "OR": OR,
    "MOD": MOD,
}
UNARY_FUNCS = {
    "ABS": ABS,
    "SQRT": SQRT,
    "EXP": EXP,
    "LN": LN,
    "LOG10": LOG10,
    "SIN": SIN,
    "COS": COS,
    "TAN": TAN,
    "ARCSIN": ASIN,
    "ARCCOS": ACOS,
    "ARCTAN": ATAN,
    "INT": INT,
}
CLOCK = {"TIME": TIME, "DT": DT, "STARTTIME": START, "STOPTIME": STOP}
RANDOMS = {
    "RANDOM": RANDOM,
    "NORMAL": NORMAL,
    "LOGNORMAL": LOGNORMAL,
    "EXPRND": EXPRND,
    "POISSON": POISSON,
}
# fused forms emitted by the peephole pass: a binary op whose right operand is a constant
# (FUSE_CONST + op, arg = constant index) or a slot (FUSE_SLOT + op, arg = slot)
FUSE_CONST, FUSE_SLOT = 200, 300
FUSABLE = frozenset((*BINARY.values(), MIN, MAX))

# how many values each op pops (pushes are always one, except STORE which pushes none)
POPS = {
    CONST: 0,
    LOAD: 0,
    STORE: 1,
    NEG: 1,
    NOT: 1,
    SELECT: 3,
    LOOKUP: 1,
    STEP: 2,
    PULSE: 3,
    RAMP: 3,
    SAFEDIV: 3,
    RANDOM: 2,
    NORMAL: 2,
    LOGNORMAL: 2,
    EXPRND: 1,
    POISSON: 1,
    DELAY: 2,
    HISTORY: 2,
    TIME: 0,
    DT: 0,
    START: 0,
    STOP: 0,
}
for _op in BINARY.values():
    POPS[_op] = 2
POPS[MIN] = POPS[MAX] = 2
for _op in UNARY_FUNCS.values():
    POPS[_op] = 1
for _op in FUSABLE:
    POPS[FUSE_CONST + _op] = POPS[FUSE_SLOT + _op] = 0


def pops(op: int, arg: int) -> int:
    """How many values ``op`` pops: POPS, or for an allocation level as many as its arg says."""
    if op == AVAILABLE:
        return 4 * arg + 3
    if op == PRIORITY:
        return 2 * arg + 4
    return POPS[op]


# lookup kinds
LK_CONTINUOUS, LK_EXTRAPOLATE, LK_DISCRETE = 0, 1, 2
