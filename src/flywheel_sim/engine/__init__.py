"""The engine: :func:`simulate` runs a compiled Program over many parameter sets at once — the
parameter matrix and seeds (:mod:`.params`), the time grid (:mod:`.grid`), the integrators'
tableaus (:mod:`.integrators`), the VMs (:mod:`.vm`) — and :mod:`.result` assembles the VM's
arrays as an ``xarray.Dataset``. It imports the compiler and the model types, never a study,
the store, a presenter or the CLI."""
