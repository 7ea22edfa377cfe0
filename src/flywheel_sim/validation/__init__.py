"""The reviewer's tests of a system-dynamics model (Sterman, *Business Dynamics*, ch. 21) as one
call: dimensional consistency, extreme conditions, declared bounds, integration error, reality
checks and loop sanity. :func:`flywheel_sim.test_model` (in :mod:`.suite`) runs them on any
model and returns a :class:`~.report.TestReport`; ``flywheel test MODEL`` prints it.

Uses the compiler, the engine, the loop analysis and the studies' reality checks; never a
presenter, the web server or the CLI."""
