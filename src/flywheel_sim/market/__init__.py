"""The agent-based marketplace: customers, sellers and the platform as struct-of-arrays agents.

``simulate_market(params, customers=N, sellers=K, months=M, seed=S)`` runs it and returns the
project's Result (dims ``run``, ``time``); ``market_ensemble`` runs seeds x scenarios through an
executor; ``step`` advances a :class:`MarketState` one month. docs/models/market.md states
every rule with the seed sentence it comes from.

Where things are: ``params`` (the declared parameters), ``state`` (the agents as arrays),
``views`` (the records the rules pass each other), ``rules/`` (every rule, in NumPy),
``fast/`` (numba twins of the hot rules, same module and function names), ``step`` (one month,
and the choice of backend), ``run`` (runs, ensembles, the Result), ``pairwise`` (NumPy's
summation order for the kernels) and ``session`` (the ``flywheel market`` workflow).
"""

from __future__ import annotations

from flywheel_sim.market.params import MarketParams, load_market_study, market_model
from flywheel_sim.market.run import VARIABLES, MarketSettings, market_ensemble, simulate_market
from flywheel_sim.market.state import MarketState, create
from flywheel_sim.market.step import step

__all__ = [
    "VARIABLES",
    "MarketParams",
    "MarketSettings",
    "MarketState",
    "create",
    "load_market_study",
    "market_ensemble",
    "market_model",
    "simulate_market",
    "step",
]
