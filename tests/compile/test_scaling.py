"""Loading and compiling stay linear in the size of the model (issue 21: 30,000 variables
in under 3 s). Counted, not timed: the timings are benchmarks/compile.py, whose mixed shape
(stocks with several flows, lookups, delays and smooths, arrays with subscripts) these tests
load from YAML and from the XMILE ``save_xmile`` writes."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

import flywheel_sim as fs
from flywheel_sim.compile import PROGRAMS, scalar_base
from flywheel_sim.spec.parser import _parse

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "compile.py"
LINEAR = 2.3  # twice the model, at most this much more work (quadratic work gives about 4)


def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_calls(work: Callable[[], object]) -> int:
    """How many Python and C functions ``work()`` calls."""
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    _parse.cache_clear()
    PROGRAMS.clear()
    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("route", ["yaml", "xmile"])
def test_loading_and_compiling_the_mixed_shape_is_linear(route: str, tmp_path: Path) -> None:
    """The issue measured 4.6 s / 40 s / ~440 s for 3,000 / 9,000 / 30,000 variables; the
    mixed shape of benchmarks/compile.py at 340 and 680 variables (10 and 20 sectors)."""
    mixed_model = benchmark().mixed_model
    counts = []
    for n in (340, 680):
        text = mixed_model(n)
        path = fs.save_xmile(fs.loads_model(text), tmp_path / f"mixed{n}.xmile")

        def work(text: str = text, path: Path = path) -> object:
            model = fs.load_model(path) if route == "xmile" else fs.loads_model(text)
            return fs.compile_model(model)

        counts.append(python_calls(work))
    assert counts[0] > 10_000  # the profile does see the work
    assert counts[1] < LINEAR * counts[0]


class CountingTuple(tuple[str, ...]):
    """A dimension's elements that count the elements each scan reads (``in``, ``index``
    and iteration are C loops that a profile of Python calls does not see)."""

    scanned = 0

    def __contains__(self, item: object) -> bool:
        CountingTuple.scanned += len(self)
        return super().__contains__(item)

    def index(self, *args: Any) -> int:
        CountingTuple.scanned += len(self)
        return super().index(*args)

    def __iter__(self) -> Iterator[str]:
        CountingTuple.scanned += len(self)
        return super().__iter__()


def large_dimension(n: int) -> str:
    """Equations over a dimension of n named elements reading one element by name, a
    dimension's position, ``d.element``, a smooth and a sum (the shape that scanned the
    dimension's tuple for every element: n^2)."""
    elements = ", ".join(f"e{i}" for i in range(1, n + 1))
    return f"""name: large dimension
time: {{start: 0, stop: 1, dt: 1}}
dimensions:
  d: [{elements}]
parameters:
  k: {{default: 0.5, dims: [d], min: 0, max: 1}}
stocks:
  s: {{initial: 1, inflows: [f], dims: [d]}}
flows:
  f: {{equation: "k * a", dims: [d]}}
auxiliaries:
  a: {{equation: "1 - b[e{n}] + d", dims: [d]}}
  b: {{equation: "s + total / {n}", dims: [d]}}
  c: {{equation: "SMTH1(s, 2)", dims: [d]}}
  total: {{equation: "SUM(k[*])"}}
  t: {{equation: "SUM(c[*]) + s[e{n}] + d.e{n // 2}"}}
"""


def test_an_equation_over_a_large_dimension_reads_its_elements_a_linear_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found with a dimension of 1,000-8,000 elements: compiling took 0.36, 1.0, 3.1 and
    8.9 s (every element of every equation looked its subscripts up in the tuple)."""
    real = scalar_base.canonical_elements
    monkeypatch.setattr(
        scalar_base, "canonical_elements", lambda elements: CountingTuple(real(elements))
    )
    counts = []
    for n in (200, 400):
        model = fs.loads_model(large_dimension(n))
        PROGRAMS.clear()
        CountingTuple.scanned = 0
        fs.compile_model(model)
        counts.append(CountingTuple.scanned)
    assert counts[0] >= 200  # the elements are read (this test would otherwise prove nothing)
    assert counts[1] < LINEAR * counts[0]
