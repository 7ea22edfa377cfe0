"""Generated models of N variables for the engine benchmark (benchmarks/engine.py).

``generate(n)`` returns the YAML text of a model of about ``n`` declared variables, built of
sectors of ten: a stock with an inflow and an outflow, a per-sector weight (a parameter), and
auxiliaries that couple each sector to the previous one, pass a pressure through one of three
graphical functions (a ``lookup:`` block on the auxiliary, XMILE's embedded ``<gf>``), smooth
the inflow (``SMTH1``) and delay the outflow (``DELAY3``). Two global parameters,
``growth_rate`` and ``lifetime``, have ranges (:data:`VARIED`), so an ensemble varies them as it
varies ``contact_infectivity`` and ``duration`` on SIR.

Every construct is one pysimlin 0.8.5 reads from our ``save_xmile`` export (the benchmark
checks values against it). Left out because pysimlin does not read it: a shared ``lookups:``
entry called as a function (exported as ``LOOKUP(table, x)`` with a standalone ``<gf>``; pysimlin
stops with "failed to compile fragments"), so each sector embeds its table. The hidden stocks of
``SMTH1`` and ``DELAY3`` (one and three per sector) are not counted in ``n``.

Run ``python benchmarks/engine_models.py 1000`` to print a model.
"""

from __future__ import annotations

import sys

PER_SECTOR = 10
"""Declared variables per sector (stock, 2 flows, 1 parameter, 6 auxiliaries)."""

VARIED = {"growth_rate": (0.02, 0.06), "lifetime": (15.0, 40.0)}
"""The two parameters an ensemble varies, with the uniform ranges it draws from."""

TABLES = (
    "[[0, 0.5], [1, 1.0], [2, 1.3], [4, 1.5]]",
    "[[0, 1.2], [1, 1.0], [3, 0.7], [6, 0.5]]",
    "[[0, 0.8], [0.5, 0.9], [1, 1.0], [2, 1.05], [5, 1.1]]",
)
"""The three graphical functions, used in turn by the sectors' ``effect`` auxiliaries."""

HEAD = """name: generated_{n}
description: generated benchmark model of {sectors} sectors ({n} declared variables)
time: {{start: 0, stop: 100, dt: 0.25, units: year, method: euler}}
parameters:
  growth_rate: {{default: 0.04, min: 0.0, max: 1.0}}
  lifetime: {{default: 25, min: 0.5, max: 100}}
"""


def sector(k: int, sectors: int) -> dict[str, list[str]]:
    """The YAML lines of sector ``k`` by section (parameters, stocks, flows, auxiliaries)."""
    prev = (k - 1) % sectors
    table = TABLES[k % len(TABLES)]
    return {
        "parameters": [f"  weight_{k}: {{default: {0.5 + (k % 7) / 10:.1f}}}"],
        "stocks": [
            f"  stock_{k}: {{initial: {100 + k % 13}, inflows: [inflow_{k}], "
            f"outflows: [outflow_{k}]}}"
        ],
        "flows": [
            f"  inflow_{k}: {{equation: stock_{k} * growth_rate * effect_{k}}}",
            f"  outflow_{k}: {{equation: stock_{k} / lifetime}}",
        ],
        "auxiliaries": [
            f"  pressure_{k}: {{equation: stock_{prev} / (stock_{k} + 1)}}",
            f"  effect_{k}: {{equation: pressure_{k} * weight_{k}, lookup: {{points: {table}}}}}",
            f'  smoothed_{k}: {{equation: "SMTH1(inflow_{k}, 2)"}}',
            f'  delayed_{k}: {{equation: "DELAY3(outflow_{k}, 3)"}}',
            f"  balance_{k}: {{equation: smoothed_{k} - delayed_{k}}}",
            f"  indicator_{k}: {{equation: balance_{k} / (stock_{k} + 1) + weight_{k}}}",
        ],
    }


def generate(n: int) -> str:
    """YAML text of a model of ``n`` declared variables (rounded up to whole sectors of ten;
    the two global parameters are not counted)."""
    if n < PER_SECTOR:
        raise ValueError(f"n must be at least {PER_SECTOR}, got {n}")
    sectors = -(-n // PER_SECTOR)
    parts = [sector(k, sectors) for k in range(sectors)]
    lines = [HEAD.format(n=sectors * PER_SECTOR, sectors=sectors).rstrip("\n")]
    for section in ("parameters", "stocks", "flows", "auxiliaries"):
        if section != "parameters":
            lines.append(f"{section}:")
        lines.extend(line for part in parts for line in part[section])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 100), end="")
