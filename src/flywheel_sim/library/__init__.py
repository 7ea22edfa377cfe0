"""Package data: the built-in models, their scenario files, the historical data and the
agent-based market's defaults. Read with :mod:`importlib.resources`; no code."""
