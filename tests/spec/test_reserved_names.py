"""Names and flows a model may not use (issue 18 item 6), refused when the model is built, for
YAML and XMILE alike: result coordinates (``time``, ``run``, ``seed`` crashed a run; ``status``,
``failed_time``, ``failed_variable`` vanished from the result), keywords of the equations (a
variable ``not`` was read as the operator), a flow listed twice (it counted twice), and a flow
not over its stock's dimensions (a scalar flow reached every element in full)."""

from __future__ import annotations

import pytest

from flywheel_sim.engine.simulate import simulate
from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile import loads_xmile
from flywheel_sim.io.yaml.reader import loads_model
from flywheel_sim.spec.ast import KEYWORDS
from flywheel_sim.spec.names import RESERVED

HEAD = "name: m\ntime: {start: 0, stop: 2, dt: 1}\n"


def yaml_error(body: str) -> str:
    with pytest.raises(ModelError) as info:
        loads_model(HEAD + body, file="m.yaml")
    return str(info.value)


def xmile_error(variables: str, dims: str = "") -> str:
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
        "<header><name>t</name></header>"
        "<sim_specs><start>0</start><stop>2</stop><dt>1</dt></sim_specs>"
        f"{dims}<model><variables>{variables}</variables></model></xmile>"
    )
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


def test_reserved_names_are_refused_in_xmile_and_as_dimensions() -> None:
    assert "'Status' has a name the results use" in xmile_error(
        '<aux name="Status"><eqn>1</eqn></aux>'
    )
    assert "'failed variable' has a name the results use" in xmile_error(
        '<stock name="failed variable"><eqn>1</eqn></stock>'
    )
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
