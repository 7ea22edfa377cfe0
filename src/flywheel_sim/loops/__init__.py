"""Feedback-loop analysis: the causal graph, link polarity, loop finding (element by element
in arrayed models) and loop dominance after Loops That Matter.

Modules, each importing only those before it: :mod:`.graph` (the causal graph),
:mod:`.polarity` (link polarity measured from a simulation), :mod:`.cycles` (a cycle's
spelling and type), :mod:`.scores` (Loops That Matter link scores), :mod:`.strongest` (the
strongest-path search), :mod:`.find` (every elementary loop, or the strongest), :mod:`.instances`
(the loops of arrayed models, element by element) and :mod:`.dominance` (loop scores, the
dominant loops, and :func:`search_dominance`, the one rule for scoring a search's loops).
"""

from __future__ import annotations

from flywheel_sim.loops.dominance import dominance_periods, loop_dominance, search_dominance
from flywheel_sim.loops.find import Loop, LoopSearch, find_loops
from flywheel_sim.loops.graph import causal_graph
from flywheel_sim.loops.instances import instance_loops
from flywheel_sim.loops.polarity import Contradiction, measure_polarity

__all__ = [
    "Contradiction",
    "Loop",
    "LoopSearch",
    "causal_graph",
    "dominance_periods",
    "find_loops",
    "instance_loops",
    "loop_dominance",
    "measure_polarity",
    "search_dominance",
]
