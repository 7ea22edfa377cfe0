"""The model library (amazon, seller, rivals): citations, links, units and named loops.

Every causal link must cite the seed sentence it comes from (verbatim, from docs/seeds) or say
it is an assumption; every named loop must be traceable through the equations, with the
product of its link polarities matching the declared type.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import flywheel_sim as fs
from conftest import cites_a_seed_or_says_why
from flywheel_sim.spec.ast import Num, names_in, walk
from flywheel_sim.spec.names import canonical

LIBRARY = ["amazon", "seller", "rivals"]
CLOCK = {"time", "dt", "starttime", "stoptime", "pi"}


@pytest.fixture(scope="module", params=LIBRARY)
def model(request: pytest.FixtureRequest) -> fs.Model:
    return fs.load_model(request.param)


def test_every_parameter_has_a_source_and_unit(model: fs.Model) -> None:
    for p in model.of_kind("parameter"):
        assert p.source.strip(), f"{model.name}.{p.name} has no source"
        assert p.unit.strip(), f"{model.name}.{p.name} has no unit"
        if model.name == "amazon":
            assert cites_a_seed_or_says_why(p.source), (p.name, p.source)


def test_every_variable_documents_its_unit(model: fs.Model) -> None:
    for e in model.elements:
        assert e.unit.strip(), f"{model.name}.{e.name} has no unit"


def test_every_causal_link_is_declared_and_cited(model: fs.Model) -> None:
    parameters = {p.key for p in model.of_kind("parameter")}
    for e in (*model.of_kind("flow"), *model.of_kind("aux")):
        texts = [e.equation, *(t for _, t in e.element_equations)]
        inputs = set().union(*(names_in(fs.parse(t)) for t in texts if t)) - CLOCK - parameters
        declared = {canonical(link.source): link for link in e.links}
        assert inputs <= set(declared), (model.name, e.name, inputs - set(declared))
        for link in e.links:  # '?' marks a link whose sign depends on the state
            assert link.polarity in ("+", "-", "?"), (e.name, link.source)
            assert cites_a_seed_or_says_why(link.citation), (e.name, link.source, link.citation)


def test_amazon_has_no_magic_numbers() -> None:
    """Every constant is a named parameter: equations hold only 0, 1, 2 (structure) and 1000
    (thousands to millions)."""
    amazon = fs.load_model("amazon")
    for e in amazon.elements:
        if e.kind in ("flow", "aux", "stock") and e.equation:
            numbers = {n.value for n in walk(fs.parse(e.equation)) if isinstance(n, Num)}
            assert numbers <= {0.0, 1.0, 2.0, 1000.0}, (e.name, numbers)


def _depends_on(model: fs.Model, target: str, source: str) -> str | None:
    """The declared polarity of the link source -> target, or None if target does not use it."""
    element = model.element(target)
    if element.kind == "stock":
        if canonical(source) in {canonical(f) for f in element.inflows}:
            return "+"
        if canonical(source) in {canonical(f) for f in element.outflows}:
            return "-"
        return None
    texts = [element.equation, *(t for _, t in element.element_equations)]
    uses = set().union(*(names_in(fs.parse(t)) for t in texts if t))
    if canonical(source) not in uses:
        return None
    for link in element.links:
        if canonical(link.source) == canonical(source):
            return link.polarity
    return "?"


def test_named_loops_are_traceable_with_the_declared_polarity(model: fs.Model) -> None:
    assert model.loops, f"{model.name} names no loops"
    for loop in model.loops:
        sign: int | None = 1
        chain = list(loop.variables)
        for source, target in zip(chain, chain[1:] + chain[:1], strict=True):
            polarity = _depends_on(model, target, source)
            assert polarity is not None, f"{loop.name}: {target} does not depend on {source}"
            if polarity == "?" or sign is None:
                sign = None  # a state-dependent link: the loop's type is not fixed
            else:
                sign *= 1 if polarity == "+" else -1
        expected = "?" if sign is None else ("R" if sign > 0 else "B")
        assert loop.polarity == expected, (loop.name, loop.polarity, expected)


def test_library_docs_cover_every_model() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "models"
    for name in LIBRARY:
        text = (docs / f"{name}.md").read_text()
        model = fs.load_model(name)
        for p in model.of_kind("parameter"):
            assert p.name in text, f"docs/models/{name}.md does not list {p.name}"
        for loop in model.loops:
            title = loop.description.split(":")[0].strip()  # '' is in every text: not a title
            assert loop.name in text or (title and title in text), loop.name


def test_model_docs_embed_the_current_generated_tables() -> None:
    from flywheel_sim.present.markdown import BEGIN, END, model_markdown

    docs = Path(__file__).resolve().parents[2] / "docs" / "models"
    generated = []
    for name in LIBRARY:
        text = (docs / f"{name}.md").read_text()
        start = text.find(BEGIN.format(name=name))
        if start < 0:
            continue  # a hand-written page (checked by test_library_docs_cover_every_model)
        generated.append(name)
        end = text.index(END, start) + len(END)
        assert text[start:end] + "\n" == model_markdown(fs.load_model(name)), (
            f"docs/models/{name}.md is stale: regenerate with flywheel describe {name} --markdown"
        )
    assert "amazon" in generated  # its tables are generated: a lost marker is no pass
