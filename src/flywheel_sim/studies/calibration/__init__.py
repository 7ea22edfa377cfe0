"""Calibration: fit chosen parameters to observed history, with honest uncertainty.

One module per stage: :mod:`.observations` (the data, and how each series is compared with
the model), :mod:`.objective` (residuals, the loss and the reality checks' penalties),
:mod:`.fit` (the search and the polish: :func:`calibrate`, :class:`Calibration`,
:class:`SearchSettings`), :mod:`.intervals` (Wald or bootstrap intervals, the prediction
band) and :mod:`.plan` (a scenario file's defaults merged with the caller's choices, as the
command line and the dashboard fit).
"""

from __future__ import annotations

from flywheel_sim.studies.calibration.fit import Calibration, SearchSettings, calibrate
from flywheel_sim.studies.calibration.objective import RealityCheck

__all__ = ["Calibration", "RealityCheck", "SearchSettings", "calibrate"]
