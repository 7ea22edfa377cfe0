"""A large Vensim .mdl written the way Vensim writes one, for benchmarks/mdl.py.

``generate(lines)`` returns the text of a model of at least ``lines`` lines: a chain of
supply-chain sectors, each with subscripted stocks and flows (``INTEG``), auxiliaries,
per-element and two-dimensional constants, a standalone lookup and a ``WITH LOOKUP``,
``SMOOTH``, ``DELAY3``, ``SUM`` over a subscript, ``IF THEN ELSE``, ``MIN``/``MAX``/``STEP``,
comments continued with ``\\``, one group per sector, the control section, and a sketch (one
view per ten sectors, each headed by the sketch marker: variables, valves, arrows) with
Vensim's settings trailer. Each sector's demand takes a share of the previous sector's
shipments, so the sectors form one chain.
"""

from __future__ import annotations

REGIONS = ("North", "South", "East", "West", "Central")
PLANTS = 4  # Plant: (p1-p4)
HEAD = """{UTF-8}
Region:
\tNorth, South, East, West, Central
\t~\t
\t~\tThe regions every sector serves.
\t|

Plant:
\t(p1-p4)
\t~\t
\t~\tThe plants of a sector.
\t|

"""
CONTROL = """********************************************************
\t.Control
********************************************************~
\t\tSimulation Control Parameters
\t|

FINAL TIME  = 100
\t~\tMonth
\t~\tThe final time for the simulation.
\t|

INITIAL TIME  = 0
\t~\tMonth
\t~\tThe initial time for the simulation.
\t|

SAVEPER  =\x20
        TIME STEP
\t~\tMonth [0,?]
\t~\tThe frequency with which output is stored.
\t|

TIME STEP  = 0.25
\t~\tMonth [0,?]
\t~\tThe time step for the simulation.
\t|

"""
SKETCH_HEAD = (
    "\\\\\\---/// Sketch information - do not modify anything except names\n"
    "V300  Do not put anything below this section - it will be ignored\n"
)
VIEW_STYLE = (
    "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0\n"
)
TRAILER = (
    "///---\\\\\\\n:L\x7f<%^E!@\n1:Current.vdf\n9:Current\n22:Month,Months\n"
    "22:Widget,Widgets\n15:0,0,0,0,0,0\n19:100,0\n27:2,\n34:0,\n4:Time\n"
    "5:Inventory 1[Region]\n35:Date\n36:YYYY-MM-DD\n37:2000\n38:1\n39:1\n40:2\n41:0\n42:1\n"
    "24:0\n25:100\n26:100\n"
)


def wrapped(text: str, width: int = 76) -> str:
    """Vensim's long lines: broken at a space, continued with a backslash."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) >= width:
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word
    return " \\\n\t\t".join([*lines, line])


def equation(left: str, right: str, units: str, comment: str = "") -> str:
    """One equation as Vensim saves it: name, expression, units, comment, separator."""
    return f"{left}=\n\t{wrapped(right)}\n\t~\t{units}\n\t~\t{comment}\n\t|\n\n"


def stock(name: str, flows: str, initial: str, units: str, comment: str) -> str:
    return f"{name}= INTEG (\n\t{flows},\n\t\t{initial})\n\t~\t{units}\n\t~\t{comment}\n\t|\n\n"


def lookup(name: str, points: list[tuple[float, float]]) -> str:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    box = f"[({min(xs)},{min(ys)})-({max(xs)},{max(ys)})]"
    pairs = ",".join(f"({x},{y})" for x, y in points)
    return f"{name}(\n\t{box},{pairs})\n\t~\tDmnl\n\t~\t\n\t|\n\n"


def constants(k: int) -> list[str]:
    """A sector's parameters: scalars, per-element lists and a two-dimensional table."""
    regions = ", ".join(str(100 + 10 * ((k + i) % 5)) for i in range(len(REGIONS)))
    rows = ";\n\t".join(
        ", ".join(f"{0.1 + 0.05 * ((r + p + k) % 4):.2f}" for p in range(PLANTS))
        for r in range(len(REGIONS))
    )
    return [
        equation(f"production delay {k}", f"{2 + k % 3}", "Month [1,12]"),
        equation(f"minimum shipping time {k}", "1", "Month"),
        equation(f"inventory coverage {k}", f"{1.5 + (k % 4) / 2}", "Month"),
        equation(f"inventory adjustment time {k}", "4", "Month"),
        equation(f"reference price {k}", f"{10 + k % 7}", "Dollar/Widget"),
        equation(f"price adjustment time {k}", "6", "Month"),
        equation(f"delivery delay {k}", "2", "Month"),
        equation(f"transfer fraction {k}", "0.1", "Dmnl"),
        equation(f"base demand {k}[Region]", regions, "Widgets/Month"),
        equation(f"initial inventory {k}[Region]", regions, "Widgets"),
        equation(f"plant share {k}[Plant]", "0.4, 0.3, 0.2, 0.1", "Dmnl"),
        equation(f"plant mix {k}[Region, Plant]", rows + ";", "Dmnl"),
    ]


def sector(k: int) -> list[str]:
    """The equations of sector ``k`` (its demand draws on sector ``k - 1``'s shipments)."""
    upstream = f" + transfer fraction {k} * shipments {k - 1}[Region]" if k > 1 else ""
    group = (
        f"********************************************************\n\t.Sector {k}\n"
        f"********************************************************~\n"
        f"\t\tProduction, inventory and price of sector {k}.\n\t|\n\n"
    )
    return [
        group,
        stock(
            f"Inventory {k}[Region]",
            f"production {k}[Region]-shipments {k}[Region]",
            f"initial inventory {k}[Region]",
            "Widgets",
            f"Finished goods of sector {k}, held in each region; filled by production \\\n"
            "\t\tand drained by shipments.",
        ),
        stock(
            f"Price {k}[Region]",
            f"price change {k}[Region]",
            f"reference price {k}",
            "Dollar/Widget",
            "",
        ),
        equation(
            f"production {k}[Region]",
            f"MAX(0, SMOOTH(desired production {k}[Region], production delay {k}))",
            "Widgets/Month",
        ),
        equation(
            f"shipments {k}[Region]",
            f"MIN(demand {k}[Region], Inventory {k}[Region] / minimum shipping time {k})",
            "Widgets/Month",
        ),
        equation(
            f"demand {k}[Region]",
            f"base demand {k}[Region] * price effect {k}[Region] * (1 + STEP(0.1, 10))" + upstream,
            "Widgets/Month",
            "Orders received; a step of 10% at month 10.",
        ),
        equation(
            f"desired inventory {k}[Region]",
            f"demand {k}[Region] * inventory coverage {k}",
            "Widgets",
        ),
        equation(
            f"desired production {k}[Region]",
            f"MAX(0, demand {k}[Region] + (desired inventory {k}[Region] - Inventory {k}"
            f"[Region]) / inventory adjustment time {k})",
            "Widgets/Month",
        ),
        equation(
            f"inventory ratio {k}[Region]",
            f"desired inventory {k}[Region] / MAX(1, Inventory {k}[Region])",
            "Dmnl",
        ),
        lookup(
            f"effect of inventory on price {k}",
            [(0, 0.6), (0.5, 0.8), (1, 1), (1.5, 1.25), (2, 1.4), (3, 1.5)],
        ),
        equation(
            f"price change {k}[Region]",
            f"Price {k}[Region] * (effect of inventory on price {k}(inventory ratio {k}"
            f"[Region]) - 1) / price adjustment time {k}",
            "Dollar/Widget/Month",
        ),
        f"price effect {k}[Region]= WITH LOOKUP (\n\tPrice {k}[Region] / reference price "
        f"{k},\n\t\t([(0,0)-(3,2)],(0,1.5),(0.5,1.3),(1,1),(2,0.6),(3,0.4) ))\n"
        "\t~\tDmnl\n\t~\tHow demand responds to the relative price.\n\t|\n\n",
        equation(f"total shipments {k}", f"SUM(shipments {k}[Region!])", "Widgets/Month"),
        equation(
            f"delivered {k}", f"DELAY3(total shipments {k}, delivery delay {k})", "Widgets/Month"
        ),
        equation(
            f"plant output {k}[Region, Plant]",
            f"production {k}[Region] * plant share {k}[Plant] * plant mix {k}[Region, Plant]"
            " / 0.25",
            "Widgets/Month",
        ),
        equation(
            f"capacity {k}[Plant]",
            f"IF THEN ELSE(Time > 20, 1200, 1000) * plant share {k}[Plant] / 0.25",
            "Widgets/Month",
        ),
        equation(
            f"utilization {k}[Plant]",
            f"SUM(plant output {k}[Region!, Plant]) / capacity {k}[Plant]",
            "Dmnl",
        ),
        *constants(k),
    ]


SECTOR_NAMES = (
    "Inventory {k}",
    "Price {k}",
    "production {k}",
    "shipments {k}",
    "demand {k}",
    "desired inventory {k}",
    "desired production {k}",
    "inventory ratio {k}",
    "price change {k}",
    "price effect {k}",
    "total shipments {k}",
    "delivered {k}",
    "plant output {k}",
    "utilization {k}",
)


def view(number: int, sectors: range) -> list[str]:
    """One sketch view: each sector's variables in a row, a valve under each flow, an arrow
    from each variable to the next."""
    lines = [f"*View {number}\n", VIEW_STYLE]
    ident = 0
    for row, k in enumerate(sectors):
        before = 0
        for col, template in enumerate(SECTOR_NAMES):
            ident += 1
            here, x, y = ident, 100 + 120 * col, 80 + 90 * row
            shape = "40,20,3,3" if col < 2 else "32,8,8,3"
            lines.append(f"10,{here},{template.format(k=k)},{x},{y},{shape},0,0,0,0,0,0\n")
            if col in (2, 3):
                ident += 1
                lines.append(f"11,{ident},48,{x},{y + 30},6,8,34,3,0,0,1,0,0,0\n")
            if before:
                ident += 1
                arrow = f"1,{ident},{before},{here},1,0,0,0,0,64,0,-1--1--1,,1|({x - 60},{y})|"
                lines.append(arrow + "\n")
            before = here
    return lines


def text_of(sectors: int) -> str:
    body = "".join(line for k in range(1, sectors + 1) for line in sector(k))
    sketch = []
    for number, start in enumerate(range(1, sectors + 1, 10), start=1):
        sketch.append(SKETCH_HEAD)  # Vensim heads every view with the sketch marker
        sketch.extend(view(number, range(start, min(start + 10, sectors + 1))))
    return HEAD + body + CONTROL + "".join(sketch) + TRAILER


def generate(lines: int = 10_000) -> str:
    """A model of at least ``lines`` lines: sectors are added until it reaches them."""
    sectors = 1
    while text_of(sectors).count("\n") < lines:
        sectors += 1
    return text_of(sectors)
