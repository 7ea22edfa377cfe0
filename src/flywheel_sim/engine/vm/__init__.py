"""The virtual machines that execute a Program: ``reference`` (NumPy, vectorised over runs: the
definition), ``block`` (numba, blocks of runs in parallel) and ``scalar`` (numba, one run at a
time), with ``rows`` (the block kernel's operations) and ``vecpow`` (glibc's vector ``pow``)."""
