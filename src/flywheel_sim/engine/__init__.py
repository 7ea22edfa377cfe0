"""The engine: :func:`simulate` runs a compiled Program over many parameter sets at once (the
VMs in :mod:`.vm`, the integrators' tableaus, the time grid and the parameter matrix) and
assembles the result as an ``xarray.Dataset``. It imports the compiler and the model types,
never a study, the store, a presenter or the CLI."""
