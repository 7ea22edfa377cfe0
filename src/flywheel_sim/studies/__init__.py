"""Studies over many runs. Scenario files (:mod:`.scenarios`) and outcomes (:mod:`.outcomes`);
sampling designs (:mod:`.sampling`); batches chunked through executors into the run store
(:mod:`.batch`, :mod:`.executors`); the workflows of ``flywheel compare`` (:mod:`.compare`),
``sweep`` and ``sensitivity`` (:mod:`.sweep`, with the indices in :mod:`.sensitivity`);
history comparison (:mod:`.history`) and calibration (:mod:`.calibration`). Studies use the
engine and the store; they never import a presenter, the web server or the CLI."""
