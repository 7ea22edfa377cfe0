"""Size limits checked before expanding (issue 18 items 2 and 3), and the compiler's work
growing linearly with the model (counted, not timed: the timings are benchmarks/compile.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flywheel_sim as fs
import flywheel_sim.compile.scalarise as scalarise_module
import flywheel_sim.spec.model as model_module
from flywheel_sim.errors import LimitError
from flywheel_sim.io.xmile.reader import Reader, load_xmile
from flywheel_sim.io.xmile.xml import parse_xml
from flywheel_sim.limits import Limits

TIME = "time: {start: 0, stop: 2, dt: 1}\n"


def load(text: str, file: str = "big.yaml") -> fs.Model:
    return fs.loads_model("name: big\n" + TIME + text, file=file)


# -- dimensions and instances ----------------------------------------------------------------
def test_a_dimension_count_over_the_limit_is_refused_before_its_elements_are_made() -> None:
    with pytest.raises(LimitError) as info:
        load("dimensions: {d: 2000000}\nparameters:\n  x: {default: 1, dims: [d]}\n")
    message = str(info.value)
    assert "dimension 'd' has 2,000,000 elements" in message
    assert "(big.yaml:3)" in message and "max_dimension_size" in message
    assert "\n" not in message


def test_a_dimension_list_over_the_limit_is_refused() -> None:
    with pytest.raises(LimitError, match="dimension 'd' has 4 elements"):
        fs.compile_model(
            load("dimensions: {d: [a, b, c, e]}\nparameters:\n  x: {default: 1, dims: [d]}\n"),
            Limits(max_dimension_size=3),
        )


def test_xmile_dimension_size_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dims.xmile"
    path.write_text(
        '<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">'
        "<sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs>"
        '<dimensions><dim name="d" size="2000000"/></dimensions>'
        "<model><variables/></model></xmile>"
    )
    with pytest.raises(LimitError, match=r"dimension 'd' has 2,000,000 elements.*dims.xmile"):
        load_xmile(path)


def test_instances_are_counted_from_the_dimensions_before_expanding() -> None:
    model = load(
        "dimensions: {a: 30, b: 30}\nparameters:\n  x: {default: 1, dims: [a, b]}\n"
        "auxiliaries:\n  y: {equation: x * 2, dims: [a, b]}\n"
    )
    assert fs.compile_model(model).n_slots == 1800
    with pytest.raises(LimitError) as info:
        fs.compile_model(model, Limits(max_instances=1000))
    message = str(info.value)
    assert "expands to 1,800 scalar variables" in message
    assert "'x' alone 900 (900 elements)" in message and "(big.yaml:5)" in message


def test_a_reduction_inside_every_element_counts_its_terms() -> None:
    model = load(
        "dimensions: {d: 40}\nparameters:\n  x: {default: 1, dims: [d]}\n"
        'auxiliaries:\n  share: {equation: "x / SUM(x[*])", dims: [d]}\n'
        '  total: {equation: "SUM(x[*])"}\n'
    )
    fs.compile_model(model)
    # 40 + 40 + 1 instances and 40 * 40 + 40 terms
    with pytest.raises(LimitError, match=r"expands to 1,721 .*'share' alone 1,640"):
        fs.compile_model(model, Limits(max_instances=1000))


# -- delays and smooths ------------------------------------------------------------------------
def test_delay_chains_are_counted_before_expanding() -> None:
    model = load(
        "parameters:\n  x: {default: 1}\nauxiliaries:\n"
        '  late: {equation: "DELAYN(x, 5, 30)"}\n  smooth: {equation: "SMOOTH(x, 2)"}\n'
    )
    program = fs.compile_model(model)
    hidden = sum(1 for key in program.slot_keys if "#" in key)
    assert hidden <= 2 * 30 + 3 + 4  # the count is an upper bound of what is made
    with pytest.raises(LimitError) as info:
        fs.compile_model(model, Limits(max_expansion=50))
    message = str(info.value)
    assert "expand to 67 hidden variables; 'late' alone 63" in message
    assert "(big.yaml:6)" in message and "max_expansion" in message


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("1e6", "must be at most 1000, not 1e+06"),
        ("1001", "must be at most 1000, not 1001"),
        ("2.5", "whole number from 1 to 1000"),
        ("0", "whole number from 1 to 1000"),
        ("-3", "whole number from 1 to 1000"),
        ("x", "whole number from 1 to 1000"),
    ],
)
def test_delayn_order_is_bounded(order: str, expected: str) -> None:
    model = load(
        "parameters:\n  x: {default: 1}\nauxiliaries:\n"
        f'  y: {{equation: "SMTHN(x, 5, {order})"}}\n'
    )
    with pytest.raises(fs.ModelError) as info:
        fs.compile_model(model)
    assert expected in str(info.value) and "(big.yaml:6)" in str(info.value)


# -- XMILE modules and macros --------------------------------------------------------------------
HEAD = (
    '<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">'
    "<sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs>"
)


def module_tree(folder: Path, levels: int, width: int) -> Path:
    """Files level0..levelN, each using the next ``width`` times."""
    for k in range(levels + 1):
        if k < levels:
            body = "".join(
                f'<module name="c{i}" resource="level{k + 1}.xmile"/>' for i in range(width)
            )
        else:
            body = '<aux name="x"><eqn>1</eqn></aux><aux name="y"><eqn>x + 1</eqn></aux>'
        (folder / f"level{k}.xmile").write_text(
            HEAD + f"<model><variables>{body}</variables></model></xmile>"
        )
    return folder / "level0.xmile"


def read(path: Path, limits: Limits) -> fs.Model:
    return Reader(parse_xml(path.read_bytes(), str(path)), "m", limits).model()


def test_module_trees_are_counted_before_flattening(tmp_path: Path) -> None:
    path = module_tree(tmp_path, levels=3, width=3)
    assert len(read(path, Limits(max_expansion=54)).elements) == 54  # 3^3 copies of 2
    with pytest.raises(LimitError) as info:
        read(path, Limits(max_expansion=53))
    message = str(info.value)
    assert "flatten into 54 variables; module 'c0' alone 18" in message
    assert f"({path}:1)" in message


def test_a_module_file_used_many_times_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flywheel_sim.io.xmile.instances as reader_module

    opened = counting(monkeypatch, reader_module, "open_resource")
    read(module_tree(tmp_path, levels=2, width=4), Limits())
    assert opened["calls"] == 2  # level1 and level2, not 4 + 16


def macro_file(depth: int, calls: int) -> str:
    macros = "".join(
        f'<macro name="m{k}"><parm>a</parm><eqn>m{k + 1}(a) + m{k + 1}(a)</eqn></macro>'
        for k in range(depth)
    )
    macros += f'<macro name="m{depth}"><parm>a</parm><eqn>a * 2</eqn></macro>'
    auxes = "".join(f'<aux name="y{i}"><eqn>m0({i})</eqn></aux>' for i in range(calls))
    return HEAD + macros + f"<model><variables>{auxes}</variables></model></xmile>"


def test_macro_calls_are_charged_before_expanding(tmp_path: Path) -> None:
    path = tmp_path / "macros.xmile"
    path.write_text(macro_file(depth=4, calls=2))
    model = read(path, Limits())
    assert [e.key for e in model.elements] == ["y0", "y1"]
    with pytest.raises(LimitError) as info:
        read(path, Limits(max_expansion=80))  # each call costs 2 + 2 * (2 + 2 * ...) = 62
    message = str(info.value)
    assert "macro 'm0'" in message and "one call from 'y1' makes 62" in message


def test_a_deep_macro_tree_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xmile"
    path.write_text(macro_file(depth=25, calls=1))
    with pytest.raises(LimitError, match="makes 134,217,726"):
        read(path, Limits())


# -- linear work ---------------------------------------------------------------------------------
def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> dict[str, int]:
    calls = {"calls": 0}
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["calls"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def chain(links: int) -> str:
    lines = ["parameters:"] + [f"  k{i}: {{default: 0.1}}" for i in range(links)]
    lines += ["stocks:"] + [f"  s{i}: {{initial: 1, inflows: [f{i}]}}" for i in range(links)]
    lines += ["flows:"] + [f"  f{i}: {{equation: k{i} * s{max(i - 1, 0)}}}" for i in range(links)]
    return "\n".join(lines) + "\n"


def test_compiling_names_each_variable_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The emitter used to compare every element with every instance (recomputing canonical
    names each time): n^2 name computations. Now a bounded number per variable."""
    import flywheel_sim.compile.emit as emit_module
    import flywheel_sim.compile.scalar_base as scalar_base_module

    modules = (model_module, scalarise_module, scalar_base_module, emit_module)
    counters = [counting(monkeypatch, module, "canonical") for module in modules]
    counts = []
    for links in (200, 400):  # 600 and 1,200 variables
        model = load(chain(links))
        for calls in counters:
            calls["calls"] = 0
        fs.compile_model(model)
        counts.append(sum(calls["calls"] for calls in counters))
    assert counts[0] > 0  # the compiler does ask (this test would otherwise prove nothing)
    assert counts[1] < 2.2 * counts[0]  # twice the variables, twice the work (was four times)
    assert counts[1] < 20 * 1200


def test_per_element_equations_and_defaults_are_indexed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each element's own equation and default used to be found by scanning all of them,
    with their keys canonicalised again, for every element: n^2."""
    size = 300
    defaults = ", ".join(f"{i}: {i}" for i in range(1, size + 1))
    own = ", ".join(f'{i}: "x[{i}] * 2"' for i in range(1, size + 1))
    model = load(
        f"dimensions: {{d: {size}}}\nparameters:\n  x: {{default: {{{defaults}}}, dims: [d]}}\n"
        f"auxiliaries:\n  y: {{equation: x, dims: [d], elements: {{{own}}}}}\n"
    )
    calls = counting(monkeypatch, scalarise_module, "canonical")
    program = fs.compile_model(model)
    assert calls["calls"] < 10 * size
    y = program.variable("y")
    assert program.slot_keys[y.slots[4]] == "y[5]"


# -- raising the limits from the command line --------------------------------------------------
def test_limits_come_from_the_environment() -> None:
    from flywheel_sim.limits import DEFAULT, from_environment

    assert from_environment({}) == Limits()
    raised = from_environment({"FLYWHEEL_MAX_INSTANCES": "5_000_000", "FLYWHEEL_MAX_CELLS": " 7 "})
    assert raised.max_instances == 5_000_000 and raised.max_cells == 7
    assert raised.max_dimension_size == Limits().max_dimension_size
    assert from_environment({"FLYWHEEL_MAX_EXPANSION": ""}) == Limits()
    for bad in ("abc", "0", "-5", "1e6"):
        with pytest.raises(fs.ParameterError) as info:
            from_environment({"FLYWHEEL_MAX_EXPANSION": bad})
        assert f"FLYWHEEL_MAX_EXPANSION={bad!r}" in str(info.value)
    assert from_environment() == DEFAULT  # what this process was started with


def test_a_limit_error_says_how_to_raise_it_from_the_command_line() -> None:
    with pytest.raises(LimitError) as info:
        fs.compile_model(
            load("dimensions: {a: 30}\nparameters:\n  x: {default: 1, dims: [a]}\n"),
            Limits(max_instances=10),
        )
    assert "FLYWHEEL_MAX_INSTANCES=N" in str(info.value)
    assert "Limits(max_instances=N)" in str(info.value)


def test_the_cli_takes_limits_from_the_environment(tmp_path: Path) -> None:
    """Every command (not only those with --max-cells) can raise or lower every limit."""
    import os
    import subprocess
    import sys

    model = tmp_path / "m.yaml"
    model.write_text(
        "name: m\n" + TIME + "dimensions: {a: 30}\nparameters:\n  x: {default: 1, dims: [a]}\n"
        "auxiliaries:\n  y: {dims: [a], equation: x * 2}\n"
    )

    def flywheel(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flywheel_sim.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**os.environ, "FLYWHEEL_STORE": str(tmp_path / "runs.duckdb"), **env},
        )

    lowered = flywheel("loops", str(model), FLYWHEEL_MAX_INSTANCES="40")
    assert lowered.returncode == 1, lowered.stderr
    assert lowered.stderr.count("\n") == 1 and "Traceback" not in lowered.stderr
    assert "more than the limit of 40 (max_instances)" in lowered.stderr
    bad = flywheel("run", str(model), FLYWHEEL_MAX_CELLS="lots")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "FLYWHEEL_MAX_CELLS='lots' is not a whole number" in bad.stderr
    assert flywheel("run", str(model), "--no-store", FLYWHEEL_MAX_INSTANCES="60").returncode == 0
