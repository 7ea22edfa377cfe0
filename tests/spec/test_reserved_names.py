"""Names and flows a model may not use (issue 18 item 6), refused when the model is built, for
YAML and XMILE alike: result coordinates (``time``, ``run``, ``seed`` crashed a run; ``status``,
``failed_time``, ``failed_variable`` vanished from the result), keywords of the equations (a
variable ``not`` was read as the operator), a flow listed twice (it counted twice), and a flow
not over its stock's dimensions (a scalar flow reached every element in full)."""

from __future__ import annotations

import pytest

from flywheel_sim.engine.simulate import simulate
from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl import loads_mdl
from flywheel_sim.io.xmile import loads_xmile
from flywheel_sim.io.yaml.reader import loads_model
from flywheel_sim.spec.ast import KEYWORDS
from flywheel_sim.spec.names import RESERVED

HEAD = "name: m\ntime: {start: 0, stop: 2, dt: 1}\n"


def yaml_error(body: str) -> str:
    with pytest.raises(ModelError) as info:
        loads_model(HEAD + body, file="m.yaml")
    return str(info.value)


XMILE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
    "<header><name>t</name></header>"
    "<sim_specs><start>0</start><stop>2</stop><dt>1</dt></sim_specs>"
    "{}<model><variables>{}</variables></model></xmile>"
)


def xmile_error(variables: str, dims: str = "") -> str:
    text = XMILE.format(dims, variables)
    with pytest.raises(ModelError) as info:
        loads_xmile(text, file="t.xmile")
    return str(info.value)


def test_the_reserved_names_are_the_result_coordinates() -> None:
    model = loads_model(
        HEAD + "dimensions:\n  d: [a, b]\nparameters:\n  p: {default: 1, dims: [d]}\n"
        "stocks:\n  s: {initial: 0, dims: [d], inflows: [f]}\n"
        "flows:\n  f: {equation: p, dims: [d]}\n"
    )
    result = simulate(model)
    assert set(result.coords) - {"d", "p"} == RESERVED


@pytest.mark.parametrize("name", sorted(RESERVED))
@pytest.mark.parametrize(
    "section", ["auxiliaries:\n  NAME: 1\n", "parameters:\n  NAME: 1\n", "stocks:\n  NAME: 1\n"]
)
def test_a_variable_named_like_a_result_coordinate_is_refused(name: str, section: str) -> None:
    message = yaml_error(section.replace("NAME", name.upper()))
    assert f"'{name.upper()}' has a name the results use for their own coordinates" in message
    assert "m.yaml:4" in message and "rename it: failed_time, failed_variable, run" in message


def test_imported_variables_named_like_coordinates_are_renamed() -> None:
    """Models from other tools name variables ``seed`` or ``status`` (MetaSD's pink-noise and
    critical-slowing models in Vensim): the readers rename them everywhere, with a note; our
    YAML keeps refusing them (above), and ``time``, the clock in both languages, stays refused."""
    model = loads_xmile(
        XMILE.format(
            "",
            '<aux name="Status"><eqn>2</eqn></aux><aux name="y"><eqn>Status * 3 + TIME</eqn></aux>'
            '<stock name="failed variable"><eqn>Status</eqn><inflow>run</inflow></stock>'
            '<flow name="run"><eqn>1</eqn></flow>',
        ),
        file="t.xmile",
    )
    assert model.element("status variable").default == 2
    assert model.element("y").equation == '"Status variable" * 3 + time'
    assert model.element("failed variable variable").inflows == ("run variable",)
    assert any("'status' is named 'Status variable'" in note for note in model.notes)
    result = simulate(model)
    assert float(result["y"].isel(run=0).values[-1]) == 8.0
    assert float(result["failed_variable_variable"].isel(run=0).values[-1]) == 4.0
    assert "has a name the results use" in xmile_error('<aux name="time"><eqn>1</eqn></aux>')
    mdl = (
        "seed = 7 ~~|\nnoise = RANDOM UNIFORM(0, seed, seed) ~~|\nINITIAL TIME = 0 ~~|\n"
        "FINAL TIME = 2 ~~|\nTIME STEP = 1 ~~|\nSAVEPER = 1 ~~|\n"
    )
    model = loads_mdl(mdl, file="noise.mdl")
    assert model.element("seed variable").default == 7
    assert model.element("noise").equation == 'RANDOM_UNIFORM(0, "seed variable", 7)'


def test_reserved_names_are_refused_as_dimensions() -> None:
    message = yaml_error("dimensions:\n  run: [a, b]\nauxiliaries:\n  x: 1\n")
    assert "dimension 'run' has a name the results use" in message
    message = yaml_error("dimensions:\n  d: [a, b]\nauxiliaries:\n  d: 1\n")
    assert "auxiliary 'd' has the name of a dimension" in message


@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_a_variable_named_like_a_keyword_written_bare_is_refused(name: str) -> None:
    """Written bare, the name is the operator (issue 18: ``y: not + 1`` ran as NOT(+1)): the
    model is refused, by the check of names or, where the operator cannot stand there, by the
    equation's parser."""
    kw = name.upper()
    refused = ("is named like a keyword of the equations", "of 'y'", "auxiliary 'y'")
    message = yaml_error(f"parameters:\n  {name}: 0\nauxiliaries:\n  y: {name} + 1\n")
    assert any(text in message for text in refused), message
    message = xmile_error(f'<aux name="{kw}"><eqn>0</eqn></aux><aux name="y"><eqn>{kw}</eqn></aux>')
    assert any(text in message for text in refused), message
    message = yaml_error("parameters:\n  not: 0\nauxiliaries:\n  y: not + 1\n")
    assert "parameter 'not' is named like a keyword of the equations and 'y' writes it" in message


def test_a_variable_named_like_a_keyword_is_read_in_double_quotes() -> None:
    """Vensim models name variables ``mod`` (SDXorg test-models, lookups_funcnames): in double
    quotes, as every reader and writer here writes such a name, it is the variable."""
    body = "parameters:\n  mod: 5\nauxiliaries:\n  y: '\"mod\" * 2'\n"
    model = loads_model(HEAD + body, file="m.yaml")
    assert float(simulate(model)["y"].values.ravel()[-1]) == 10.0


def test_a_flow_listed_twice_is_refused() -> None:
    flows = "flows:\n  f: 1\n"
    message = yaml_error("stocks:\n  s: {initial: 0, inflows: [f, F]}\n" + flows)
    assert "stock 's' lists flow 'F' twice in inflows; it would count twice (m.yaml:4)" in message
    message = yaml_error("stocks:\n  s: {initial: 0, inflows: [f], outflows: [f]}\n" + flows)
    assert "lists flow 'f' in both inflows and outflows; it would cancel out" in message
    message = xmile_error(
        '<stock name="s"><eqn>0</eqn><inflow>f</inflow><inflow>f</inflow></stock>'
        '<flow name="f"><eqn>1</eqn></flow>'
    )
    assert "stock 's' lists flow 'f' twice in inflows" in message


def test_a_flow_must_be_over_its_stock_dimensions() -> None:
    dims = "dimensions:\n  d: [a, b]\n  e: [x, y]\n"
    message = yaml_error(
        dims + "stocks:\n  s: {initial: 0, dims: [d], inflows: [f]}\nflows:\n  f: 1\n"
    )
    assert "flow 'f' of stock 's' is not arrayed, but the stock is over [d] (m.yaml:7)" in message
    assert "a stock's flows must be over the stock's dimensions" in message
    message = yaml_error(
        dims + "stocks:\n  s: {initial: 0, dims: [d, e], outflows: [f]}\n"
        "flows:\n  f: {equation: 1, dims: [d]}\n"
    )
    assert "is over [d], but the stock is over [d, e]" in message
    message = yaml_error(
        dims + "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: {equation: 1, dims: [e]}\n"
    )
    assert "is over [e], but the stock is not arrayed" in message
    # the same dimensions in another order are fine
    loads_model(
        HEAD + dims + "stocks:\n  s: {initial: 0, dims: [d, e], inflows: [f]}\n"
        "flows:\n  f: {equation: 1, dims: [e, d]}\n"
    )
    region = '<dimensions><dim name="R"><elem name="N"/><elem name="S"/></dim></dimensions>'
    message = xmile_error(
        '<stock name="s"><dimensions><dim name="R"/></dimensions><eqn>0</eqn>'
        '<inflow>f</inflow></stock><flow name="f"><eqn>1</eqn></flow>',
        region,
    )
    assert "flow 'f' of stock 's' is not arrayed, but the stock is over [R]" in message


def test_a_vensim_variable_named_like_our_constants_is_renamed() -> None:
    """Vensim's clock step is TIME STEP, so ``DT`` is an ordinary name there (MetaSD's
    industrial-dynamics IDch15d defines ``DT = TIME STEP``): read as our DT it made an
    algebraic loop; it is renamed, and TIME STEP stays the step."""
    text = (
        "DT = TIME STEP ~~|\ny = DT * 2 + PI ~~|\nPI = 3 ~~|\nINITIAL TIME = 0 ~~|\n"
        "FINAL TIME = 1 ~~|\nTIME STEP = 0.5 ~~|\nSAVEPER = 0.5 ~~|\n"
    )
    model = loads_mdl(text, file="dt.mdl")
    assert model.element("dt variable").equation == "dt"
    assert model.element("y").equation == "dt_variable * 2 + pi_variable"
    assert any("'dt' is named 'DT variable'" in note for note in model.notes)
    assert float(simulate(model)["y"].values.ravel()[-1]) == 4.0
