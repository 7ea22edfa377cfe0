"""Array aliases shared by the engine's modules (one spelling of each array type)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]  # values: slots x runs, parameters, saved series, times
I64 = NDArray[np.int64]  # indices and codes: slots, instructions, seeds, failure slots
U64 = NDArray[np.uint64]  # random-stream keys (per run, per call site)
