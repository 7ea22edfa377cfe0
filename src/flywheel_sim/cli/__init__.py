"""The command line: :mod:`.app` holds the Typer app and registers each command group's module.
Commands are thin adapters: parse options, call the library, print."""
