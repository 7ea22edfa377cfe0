"""Vensim mappings that pair elements as listed (``DimB: b1, b2 -> (DimA: SubA, a3)``) and how
a model keeps them: spec/mappings.py, io/mdl/subscripts.py, the compiler's references, the YAML
language. The subrange case is SDEverywhere's test model ``mapping.mdl`` (MIT) written again
here, with Vensim's output from its ``mapping.dat`` (a = 10, 10, 20); the other cases are
written for these tests, their values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import loads_mdl
from flywheel_sim.io.xmile import save_xmile
from flywheel_sim.io.yaml.reader import loads_model
from flywheel_sim.io.yaml.writer import dumps_yaml

CONTROL = "INITIAL TIME = 0 ~~|\nFINAL TIME = 1 ~~|\nTIME STEP = 1 ~~|\nSAVEPER = 1 ~~|\n"

SUBRANGE = (
    "DimA: A1, A2, A3 ~~|\nSubA: A1, A2 ~~|\nDimB: B1, B2 -> (DimA: SubA, A3) ~~|\n"
    "b[DimB] = 1, 2 ~~|\na[DimA] = b[DimB] * 10 ~~|\n" + CONTROL
)
REVERSED = (
    "DimA: A1, A2, A3 ~~|\nDimB: B1, B2, B3 -> (DimA: A3, A2, A1) ~~|\n"
    "b[DimB] = 1, 2, 3 ~~|\na[DimA] = b[DimB] ~~|\nc[DimB] = a[DimA] * 10 ~~|\n"
    "s[DimA] = DimB ~~|\ne[DimA] = b[DimB] + 100 * DimA ~~|\n" + CONTROL
)


def first(model: fs.Model, name: str, options: fs.Options | None = None) -> list[float]:
    data = fs.simulate(model, options=options)[name].isel(run=0)
    return [float(v) for v in np.ravel(data.isel(time=0) if "time" in data.dims else data)]


def test_a_listed_subrange_pairs_with_each_of_its_elements(options: fs.Options) -> None:
    model = loads_mdl(SUBRANGE, file="mapping.mdl")
    assert model.dimension("DimB").pairs == (("DimA", (("A1", "A2"), ("A3",))),)
    assert first(model, "a", options) == [10, 10, 20]  # Vensim's mapping.dat


def test_pairs_in_another_order_both_ways(options: fs.Options) -> None:
    """a[A1] reads b at B3 (listed against A1's place), c[B1] reads a at A3; a dimension's
    name as a value is the position of the paired element; per-element equations (those
    using DimA as a value) pair the same way."""
    model = loads_mdl(REVERSED, file="reversed.mdl")
    assert first(model, "a", options) == [3, 2, 1]
    assert first(model, "c", options) == [10, 20, 30]
    assert first(model, "s", options) == [3, 2, 1]
    assert first(model, "e", options) == [103, 202, 301]


def test_an_element_paired_with_several_is_ambiguous_the_other_way() -> None:
    """B1 pairs with A1 and A2: an equation over DimB reading an array over DimA cannot say
    which, so the compiler names the element and the variable."""
    model = loads_mdl(SUBRANGE + "c[DimB] = a[DimA] ~~|\n", file="mapping.mdl")
    with pytest.raises(ModelError, match=r"'b1' of 'dimb' is mapped to several elements"):
        fs.simulate(model)


@pytest.mark.parametrize(
    ("listed", "message"),
    [
        ("(DimA: A1, A2)", r"\(3 elements\) lists 2 items of 'DimA'.*mapping.mdl:2"),
        ("(DimA: A1, A2, Nope)", r"'Nope', which is neither an element.*mapping.mdl:2"),
        ("DimC", r"\(3 elements\) maps to 'DimC' \(2\) without listing the pairs"),
    ],
)
def test_mappings_that_cannot_pair_are_refused(listed: str, message: str) -> None:
    text = f"DimA: A1, A2, A3 ~~|\nDimB: B1, B2, B3 -> {listed} ~~|\nDimC: C1, C2 ~~|\n"
    with pytest.raises(ModelError, match=message):
        loads_mdl(text + "b[DimB] = 1, 2, 3 ~~|\n" + CONTROL, file="mapping.mdl")


def test_yaml_keeps_the_pairs_and_checks_them(options: fs.Options) -> None:
    model = loads_mdl(REVERSED, file="reversed.mdl")
    text = dumps_yaml(model)
    again = loads_model(text)
    assert again.dimension("DimB").pairs == model.dimension("DimB").pairs
    assert first(again, "a", options) == [3, 2, 1]
    positional = dumps_yaml(loads_mdl(REVERSED.replace("(DimA: A3, A2, A1)", "DimA")))
    assert "maps_to:\n    - DimA" in positional
    bad = text.replace("- A1\n  DimB", "- A1\n  DimB", 1).replace("      - A1\n", "      - Z9\n")
    with pytest.raises(ModelError, match="dimension 'DimB' lists pairs with 'DimA' that are not"):
        loads_model(bad)


def test_xmile_refuses_pairs_it_cannot_say_and_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "m.xmile"
    target.write_text("old")
    model = loads_mdl(REVERSED, file="reversed.mdl")
    with pytest.raises(ModelError, match=r"otherwise than in order.*save the model as YAML"):
        save_xmile(model, target)
    assert target.read_text() == "old"
