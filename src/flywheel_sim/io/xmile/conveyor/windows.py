"""The helper stocks of spread inputs (see ``spread``): windows of what entered a conveyor
over its last m DTs, plain (``A_m``), weighted by age (``B_m``) and by age squared (``C_m``),
under exponential leakage when the conveyor has it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flywheel_sim.io.xmile.conveyor.parts import error, helper
from flywheel_sim.io.xmile.conveyor.read import ConveyorSpec
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical


@dataclass
class Windows:
    """What one spread expansion needs: the conveyor, its belt and the helpers made so far.

    With exponential leakage ``leak``, the windows count what entered k DTs ago times keep
    over the k - 1 DTs since (this DT's leak is applied to the outflow): every DT they lose
    ``leak * DT`` of themselves, and what leaves them leaves with keep over its m DTs."""

    by_key: dict[str, Element]
    spec: ConveyorSpec
    stock: Element
    slats: str
    helpers: list[Element]
    leak: str = ""  # the exponential leakage's fraction, if any
    first: str = ""  # if it changes during the run: LN(keep) / DT before the start
    products: dict[str, str] = field(default_factory=dict)  # slots -> keep over them
    log: str = ""  # the flow LN(keep) / DT, once made

    @property
    def keep(self) -> str:
        """What is left of a share after this DT of exponential leakage."""
        return f"(1 - {self.leak} * DT)" if self.leak else "1"

    def product(self, slots: str) -> str:
        """keep over this DT and the ``slots - 1`` before (slots >= 1): a power, or, when the
        fraction changes during the run, EXP of a helper stock summing LN(keep) over them."""
        if not self.leak:
            return "1"
        if not self.first:
            return f"{self.keep} ^ ({slots})"
        if slots not in self.products:
            if not self.log:
                log = self.name("spread keep log")
                self.helpers.append(
                    Element(
                        name=log,
                        kind="flow",
                        dims=self.stock.dims,
                        equation=f"LN({self.keep}) / DT",
                        line=self.stock.line,
                    )
                )
                self.log = name_text(canonical(log))
            held = self.stock_of(
                f"spread keep log {len(self.products) + 1}",
                f"LN(keep) over the last {slots} DTs",
                (canonical(self.log),),
                f"DELAY({self.log}, ({slots}) * DT, {self.first})",
                start=f"({self.first}) * ({slots}) * DT",
            )
            gone = name_text(canonical(self.helpers[-1].name))
            self.products[slots] = f"EXP({held} + DT * ({self.log} - {gone}))"
        return self.products[slots]

    def name(self, suffix: str) -> str:
        made = helper(self.by_key, self.spec, f"{self.spec.name} {suffix}")
        if any(canonical(h.name) == canonical(made) for h in self.helpers):
            raise error(self.spec, f"conveyor '{self.spec.name}' needs two helpers '{made}'")
        return made

    def delayed(self, flows: list[str], lag: str) -> str:
        return " + ".join(f"DELAY({name_text(f)}, ({lag}) * DT, 0)" for f in flows)

    def stock_of(
        self,
        suffix: str,
        what: str,
        inflows: tuple[str, ...],
        leaving: str,
        *,
        lost: Callable[[str], str] | None = None,
        start: str = "0",
    ) -> str:
        """A helper stock (initially ``start``) with ``inflows``, an outflow ``leaving``
        (made last) and, with exponential leakage, an outflow ``lost(itself)``."""
        held, gone = self.name(suffix), self.name(f"{suffix} out")
        dims, line = self.stock.dims, self.stock.line
        outflows: tuple[str, ...] = (canonical(gone),)
        if self.leak and lost is not None:
            drop = self.name(f"{suffix} lost")
            outflows += (canonical(drop),)
            me = name_text(canonical(held))
            self.helpers.append(
                Element(name=drop, kind="flow", dims=dims, equation=lost(me), line=line)
            )
        self.helpers += [
            Element(
                name=held,
                kind="stock",
                dims=dims,
                equation=start,
                inflows=inflows,
                outflows=outflows,
                description=f"{what} (conveyor '{self.spec.name}')",
                line=line,
            ),
            Element(name=gone, kind="flow", dims=dims, equation=leaving, line=line),
        ]
        return name_text(canonical(held))

    def window(self, suffix: str, flows: list[str], slots: str) -> str:
        """``A_m``: DT times what entered by ``flows`` over the last ``slots`` DTs."""
        lag = f"MAX(1, {slots})"
        return self.stock_of(
            suffix,
            f"what entered by {', '.join(flows)} over the last {slots} DTs",
            tuple(flows),
            f"{self.product(lag)} * ({self.delayed(flows, lag)})",
            lost=lambda me: f"{self.leak} * {me}",
        )

    def weighted(self, suffix: str, flows: list[str], slots: str, window: str) -> str:
        """``B_m``: DT times the sum of k * what entered k DTs ago, k = 1..slots."""
        lag = f"MAX(1, {slots})"
        feed = self.name(f"{suffix} in")
        self.helpers.append(
            Element(
                name=feed,
                kind="flow",
                dims=self.stock.dims,
                equation=f"{' + '.join(name_text(f) for f in flows)} + {window} / DT",
                line=self.stock.line,
            )
        )
        return self.stock_of(
            suffix,
            f"what entered by {', '.join(flows)} over the last {slots} DTs, weighted by age",
            (canonical(feed),),
            f"({lag} + 1) * {self.product(lag)} * ({self.delayed(flows, lag)})",
            lost=lambda me: f"{self.leak} * ({me} + {window})",
        )

    def squared(self, suffix: str, flows: list[str], slots: str, below: tuple[str, str]) -> str:
        """``C_m``: DT times the sum of k^2 * what entered k DTs ago, k = 1..slots (no
        exponential leakage); ``below`` is (A_m, B_m)."""
        lag = f"MAX(1, {slots})"
        feed = self.name(f"{suffix} in")
        window, weighted = below
        entered = " + ".join(name_text(f) for f in flows)
        self.helpers.append(
            Element(
                name=feed,
                kind="flow",
                dims=self.stock.dims,
                equation=f"{entered} + (2 * {weighted} + {window}) / DT",
                line=self.stock.line,
            )
        )
        return self.stock_of(
            suffix,
            f"what entered by {', '.join(flows)} over the last {slots} DTs, by age squared",
            (canonical(feed),),
            f"({lag} + 1) ^ 2 * ({self.delayed(flows, lag)})",
        )
