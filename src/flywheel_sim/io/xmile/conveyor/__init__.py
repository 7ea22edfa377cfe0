"""Conveyors (XMILE 1.0 §3.7.2; Stella's "traditional conveyor") as plain stock-and-flow
structure, so that every engine and every analysis treats them like any other model.

Stella's conveyor is a belt of ``N = transit time / DT`` slats: every DT the inflow is put on
the belt, everything moves one slat, and what reaches the end is the outflow. With Euler
steps and a transit time that stays the same during the run, that belt is exactly:

- the conveyor: an ordinary stock (inflows minus outflow minus leakages);
- its outflow: the inflow of ``N`` DTs ago (``DELAY(inflow, N*DT, x)``), times the share that
  survives the leakages; before ``N*DT`` it is the initial contents arriving, laid out as if
  a constant inflow ``x`` had been arriving (Stella's steady state; without leakage that is
  the initial value spread evenly over the slats);
- linear leakage (the default: every DT each batch loses the same amount, ``f`` of what
  entered over the whole belt): ``f * W / (N*DT)``, where ``W`` is what entered over the
  last transit time, a helper stock ``"<conveyor> in transit"`` whose outflow is
  ``"<conveyor> arrivals"`` (what reaches the end before leakage);
- exponential leakage (``exponential_leak="true"``: every DT each slat loses ``f*DT`` of what
  it holds): ``f * conveyor``, and the outflow is ``(1 - f*DT)^N`` of what entered;
- a leak zone confines leakage to part of the belt (``zones``); leakage fractions that change
  during the run need their sum over each batch's time on the belt (``parts.history``).

Capacity and inflow limit cut the inflows (first listed first); conveyor inflows are
uniflows (XMILE §4.3). An inflow spread over the belt (``isee:spreadflow="even"`` or
``"dist"``) leaves as a distributed lag (``spread``). Anything the belt cannot be reduced to
this way (a transit time that changes during the run, arrest, discrete conveyors, exponential
leakages on different zones, whole-unit leakage, spread inputs placed by what is on a belt or
with a leak zone or with linear leakage that changes, queues) is refused with one line.
docs/xmile.md and docs/design.md describe the mapping.

Modules: ``read`` (the XMILE elements), ``expand`` (the expansion), ``zones`` (leak zones),
``spread`` (spread inputs) and ``windows`` (their helper stocks), ``parts`` (helper stocks,
errors, constant equations).
"""

from flywheel_sim.io.xmile.conveyor.expand import apply_conveyors
from flywheel_sim.io.xmile.conveyor.read import (
    ConveyorSpec,
    LeakSpec,
    leak_zone,
    read_conveyor,
    refuse_slat_size,
)
from flywheel_sim.io.xmile.conveyor.spread import SpreadSpec, read_spread

__all__ = [
    "ConveyorSpec",
    "LeakSpec",
    "SpreadSpec",
    "apply_conveyors",
    "leak_zone",
    "read_conveyor",
    "read_spread",
    "refuse_slat_size",
]
