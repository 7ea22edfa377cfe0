"""Counter-based random numbers: a stateless hash of (run key, site, step, draw).

Each run has a 64-bit key derived from its seed; each random call site in the model has its
own stream; the value at a step is the same whichever integrator stage asks for it and
whichever backend computes it, so results are reproducible and independent per run. (The
uniforms are bit-identical across backends; NORMAL/LOGNORMAL/EXPRND pass them through
log/exp/cos, where NumPy's SIMD loops and libm may differ in the last bit.)
The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
SITE = np.uint64(0xD1B54A32D192ED03)
STEP = np.uint64(0x8CB92BA72F3D8DD7)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TWO53 = 1.0 / 9007199254740992.0

U64 = NDArray[np.uint64]


def mix(z: U64) -> U64:
    """SplitMix64 finaliser on an array of uint64 (wrapping arithmetic)."""
    z = z + GOLDEN
    z = (z ^ (z >> S30)) * M1
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


def run_keys(seeds: NDArray[np.int64]) -> U64:
    """The 64-bit key of each run from its integer seed."""
    return mix(seeds.astype(np.uint64))


def site_key(site: int, explicit_seed: int) -> np.uint64:
    """The key of a random call site (an explicit seed argument names its own stream)."""
    base = np.array([explicit_seed if explicit_seed >= 0 else site + (1 << 40)], np.uint64)
    return np.uint64(mix(base * SITE)[0])


def uniform(keys: U64, site: np.uint64, step: int, draw: int) -> NDArray[np.float64]:
    """Uniform numbers in (0, 1), one per run key."""
    counter = np.uint64((step * int(STEP) + draw) & 0xFFFFFFFFFFFFFFFF)
    z = mix(mix(keys ^ site) + counter)
    return ((z >> S11).astype(np.float64) + 0.5) * TWO53
