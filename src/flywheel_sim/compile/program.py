"""The compiled form of a model: plain arrays that both virtual machines execute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flywheel_sim._types import F64, I64, U64
from flywheel_sim.spec.model import TimeSpec


@dataclass(frozen=True, slots=True)
class Variable:
    """A model variable as it appears in results: its slots (C order over ``dims``)."""

    key: str
    name: str
    kind: str
    dims: tuple[str, ...]
    coords: tuple[tuple[str, ...], ...]
    slots: Sequence[int]  # a range when consecutive (an array's elements)
    unit: str
    description: str


@dataclass(frozen=True, slots=True)
class Program:
    """A model compiled to postfix code over numbered slots.

    Slots hold every scalar value of a run (parameters, stocks, auxiliaries, hidden state).
    ``init_code`` computes initial values; ``step_code`` recomputes the time-varying
    auxiliaries and flows from the stocks at a given time. Stock ``k`` (slot
    ``stock_slots[k]``) changes by ``sum(edge_sign * value[edge_slot])`` over its edges.
    Before that, each non-negative stock limits the flows that would take material out of
    it (outflows, and inflows gone negative) to what it holds plus what flows in during DT,
    in priority order: inflows first, then outflows, each in the order listed. Where a flow
    joins two non-negative stocks, cutting it for one changes what the other receives, so the
    limits are applied again, until a pass cuts nothing (at most ``nonneg_passes`` passes).
    """

    name: str
    time: TimeSpec
    slot_keys: tuple[str, ...]
    slot_owner: tuple[str, ...]
    init_code: I64
    step_code: I64
    consts: F64
    max_stack: int
    stock_slots: I64
    edge_stock: I64
    edge_slot: I64
    edge_sign: F64
    nonneg_stock: I64  # indices into stock_slots, in model order
    nonneg_ptr: I64  # flows of nonneg stock j: nonneg_slot[ptr[j]:ptr[j+1]]
    nonneg_slot: I64  # their slots: its inflows, then its outflows, each in listed order
    nonneg_sign: F64  # +1 for an inflow, -1 for an outflow
    nonneg_passes: int  # most passes over them: 1 unless a flow joins two of them
    param_keys: tuple[str, ...]
    param_slots: I64
    param_default: F64
    param_min: F64  # NaN where unbounded
    param_max: F64
    prev_src: I64
    prev_dst: I64
    delay_src: I64
    lookup_ptr: I64
    lookup_x: F64
    lookup_y: F64
    lookup_kind: I64
    n_sites: int
    site_seed: I64  # explicit seed of each random site, or -1
    site_keys: U64  # 64-bit stream key of each random site
    check_order: I64  # slots in evaluation order, for naming the first non-finite value
    init_check: I64  # the same for the initial values (then every slot)
    variables: tuple[Variable, ...]
    dims: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def n_slots(self) -> int:
        return len(self.slot_keys)

    def variable(self, key: str) -> Variable:
        for var in self.variables:
            if var.key == key:
                return var
        raise KeyError(key)

    def label(self, slot: int) -> str:
        """A readable name for a slot: the variable (and element), or its owning element."""
        key = self.slot_keys[slot]
        if "#" in key:
            return f"{self.slot_owner[slot]} (inside {key.split('#')[1].rstrip('0123456789')})"
        return key
