"""A model as Markdown tables (parameters, causal links with their citations, named loops).

``flywheel describe MODEL --markdown`` prints this; docs/models/*.md embed it between
``<!-- BEGIN GENERATED -->`` and ``<!-- END GENERATED -->`` and a test checks it is current.
"""

from __future__ import annotations

from flywheel_sim.spec.model import Element, Model

BEGIN = "<!-- BEGIN GENERATED: flywheel describe {name} --markdown -->"
END = "<!-- END GENERATED -->"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(element: Element) -> str:
    if isinstance(element.default, tuple):
        return ", ".join(f"{k}: {v:g}" for k, v in element.default)
    return f"{element.default:g}" if element.default is not None else ""


def model_markdown(model: Model) -> str:
    """Parameter, link and loop tables for ``model``."""
    lines = [
        BEGIN.format(name=model.name),
        "",
        "### Parameters",
        "",
        "| parameter | value | range | unit | description | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in model.of_kind("parameter"):
        low = "" if p.minimum is None else f"{p.minimum:g}"
        high = "" if p.maximum is None else f"{p.maximum:g}"
        lines.append(
            f"| `{p.name}` | {_default(p)} | {low}..{high} | {_cell(p.unit)} | "
            f"{_cell(p.description)} | {_cell(p.source)} |"
        )
    lines += [
        "",
        "### Causal links and their sources",
        "",
        "| from | to | polarity | source |",
        "| --- | --- | --- | --- |",
    ]
    for e in model.elements:
        for link in e.links:
            lines.append(
                f"| `{link.source}` | `{e.name}` | {link.polarity} | {_cell(link.citation)} |"
            )
    if model.loops:
        lines += [
            "",
            "### Named feedback loops",
            "",
            "| loop | type | variables | description |",
            "| --- | --- | --- | --- |",
        ]
        for loop in model.loops:
            lines.append(
                f"| `{loop.name}` | {loop.polarity} | "
                f"{' → '.join(loop.variables)} | {_cell(loop.description)} |"
            )
    lines += ["", END]
    return "\n".join(lines) + "\n"
