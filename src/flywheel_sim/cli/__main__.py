"""``python -m flywheel_sim.cli``: the ``flywheel`` command."""

from flywheel_sim.cli.entry import main

main()
