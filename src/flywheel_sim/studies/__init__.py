"""Studies over many runs: scenario files, outcomes, sampling designs, batches through executors
into the store, sensitivity, history comparison and calibration. Studies use the engine; they
never import a presenter, the web server or the CLI."""
