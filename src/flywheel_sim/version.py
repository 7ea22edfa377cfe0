"""The package version, in a module of its own so that the run store and the report can name
it without importing the package's lazy front door."""

__version__ = "0.1.0"
