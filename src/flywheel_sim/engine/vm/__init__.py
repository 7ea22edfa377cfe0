"""The virtual machines that execute a Program: ``reference`` (NumPy, vectorised over runs: the
definition) and ``compiled`` (numba), which packs the Program into named tuples (``inputs``)
and runs one of two kernels: ``block`` (blocks of runs in parallel; arithmetic over rows in
``rows``) or ``scalar`` (one run at a time). Both kernels call the same compiled per-value
operations (``jitops``; powers through glibc's vector ``pow`` in ``vecpow``)."""
