"""Hostile model text ends in one ModelError, fast (issue 18 item 7, the parser parts):
400-digit numbers in YAML and equations, YAML nested hundreds deep, alias bombs, XMILE
declaring an encoding that is no character set, deep or huge JSON in our <flywheel:meta>,
and bytes that are not text."""

from __future__ import annotations

import pytest
import yaml

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile import loads_xmile
from flywheel_sim.io.yaml.reader import MAX_YAML_DEPTH, loads_model

HEAD = "name: m\ntime: {start: 0, stop: 2, dt: 1}\n"
BIG = "1" + "0" * 400


def yaml_error(text: str) -> str:
    with pytest.raises(ModelError) as info:
        loads_model(text, file="m.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (f"parameters:\n  p: {BIG}\n", 4),
        (f"parameters:\n  p: {{default: 1, max: {BIG}}}\n", 4),
        (f"lookups:\n  l: {{points: [[0, {BIG}], [1, 2]]}}\n", 4),
        (f"dimensions:\n  d: {BIG}\n", 4),
        (f"parameters:\n  p: {'1' * 5000}\n", 4),  # beyond Python's 4,300-digit int limit
    ],
)
def test_a_400_digit_number_in_yaml_is_too_large(body: str, line: int) -> None:
    message = yaml_error(HEAD + body)
    assert "characters) is too large" in message and f"(m.yaml:{line})" in message
    assert "numbers must be below 1.8e308" in message
    assert len(message) < 200  # the number is not printed in full


def test_a_400_digit_stop_time_is_too_large() -> None:
    message = yaml_error(f"name: m\ntime: {{start: 0, stop: {BIG}, dt: 1}}\n")
    assert "number 100000000000… (401 characters) is too large (m.yaml:2)" in message


def test_a_400_digit_number_in_an_equation_is_too_large() -> None:
    message = yaml_error(HEAD + f'auxiliaries:\n  a: "{BIG} * 2"\n')
    assert "number 100000000000… (401 characters) at column 1 is too large" in message
    assert "(m.yaml:4)" in message


def test_numbers_that_fit_still_read() -> None:
    model = loads_model(HEAD + f"parameters:\n  p: {'9' * 300}\n  q: 1e300\n")
    assert model.element("p").default == float("9" * 300)


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 450, 990])
def test_yaml_nested_hundreds_deep_is_refused(depth: int) -> None:
    flow = HEAD + "auxiliaries:\n  a: " + "[" * depth + "]" * depth + "\n"
    assert f"nests more than {MAX_YAML_DEPTH} levels deep (m.yaml:4)" in yaml_error(flow)
    block = HEAD + "units:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))
    assert f"nests more than {MAX_YAML_DEPTH} levels deep" in yaml_error(block + "  x: 1\n")


def test_deep_yaml_is_refused_by_the_pure_python_parser_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    text = HEAD + "auxiliaries:\n  a: " + "[" * 400 + "]" * 400 + "\n"
    assert "levels deep" in yaml_error(text)


def test_a_yaml_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        before, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    text = HEAD + "description:\n" + "\n".join("  " + line for line in lines) + "\n"
    assert "expands to more than" in yaml_error(text)


def xmile(body: str = "", *, head: str = "", specs: str = "", root: str = "") -> str:
    head = head or '<?xml version="1.0" encoding="utf-8"?>'
    specs = specs or "<start>0</start><stop>2</stop><dt>1</dt>"
    return (
        f'{head}\n<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" '
        'xmlns:flywheel="https://flywheel-sim.org/xmile/v1">'
        f"<header><name>t</name></header><sim_specs>{specs}</sim_specs>{body}"
        '<model><variables><aux name="a"><eqn>1</eqn></aux></variables></model>'
        f"{root}</xmile>"
    )


def xmile_error(data: str | bytes) -> str:
    with pytest.raises(ModelError) as info:
        loads_xmile(data.encode() if isinstance(data, str) else data, file="t.xmile")
    return str(info.value)


@pytest.mark.parametrize("encoding", ["undefined", "punycode", "idna", "rot13", "x-nothing"])
def test_an_xmile_encoding_that_is_no_character_set_is_refused(encoding: str) -> None:
    message = xmile_error(xmile(head=f'<?xml version="1.0" encoding="{encoding}"?>'))
    assert f"XMILE file declares unknown encoding '{encoding}' (t.xmile)" in message


def test_xmile_bytes_that_are_not_the_declared_text_are_refused() -> None:
    data = xmile().replace("<name>t</name>", "<name>caf\udce9</name>")
    message = xmile_error(data.encode("utf-8", "surrogateescape"))
    assert "XMILE file is not text in the encoding it declares ('utf-8')" in message
    message = xmile_error(xmile(head='<?xml version="1.0" encoding="utf-16"?>'))
    assert "encoding it declares ('utf-16')" in message


def test_400_digit_numbers_in_xmile() -> None:
    specs = f"<start>0</start><stop>{BIG}</stop><dt>1</dt>"
    assert "time stop must be a finite number" in xmile_error(xmile(specs=specs))
    message = xmile_error(xmile().replace("<eqn>1</eqn>", f"<eqn>{BIG}</eqn>"))
    assert "(401 characters) at column 1 is too large" in message
    dims = f'<dimensions><dim name="d" size="{"1" * 5000}"/></dimensions>'
    assert "dimension 'd' has a size of 5000 digits" in xmile_error(xmile(dims))


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
        ('{"save_step": ' + BIG + "}", "a number is too large"),
        ('{"save_step": ' + "1" * 5000 + "}", "a number is too large"),
        ('{"elements": {"a": {"range": [' + BIG + ", 1]}}}", "a number is too large"),
        ('{"diagnostics": {"stock": 5}}', "expected a name, not 5"),
        ('{"diagnostics": {"at": "soon"}}', "expected a number, not 'soon'"),
        ('{"description": "' + "x" * 6_000_000 + '"}', "too large"),
    ],
)
def test_deep_huge_or_mistyped_meta_json_is_refused(meta: str, reason: str) -> None:
    message = xmile_error(xmile(root=f"<flywheel:meta>{meta}</flywheel:meta>"))
    assert "<flywheel:meta> is" in message and reason in message and "t.xmile:" in message
    assert len(message) < 300


def test_meta_history_data_named_as_text_is_one_data_set() -> None:
    meta = (
        '{"history": {"data": "sales.csv", "time_column": "year", '
        '"series": [{"variable": "a", "column": "c", "aggregate": "point"}]}}'
    )
    model = loads_xmile(xmile(root=f"<flywheel:meta>{meta}</flywheel:meta>").encode())
    assert model.history is not None and model.history.data == ("sales.csv",)
