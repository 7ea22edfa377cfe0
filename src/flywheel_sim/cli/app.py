"""The ``flywheel`` command: the Typer app, every command registered here explicitly (in the
order ``flywheel --help`` lists them), and :func:`main`, which turns our errors into one-line
messages. Each command lives in the module of its group and imports only
:mod:`flywheel_sim.cli.common`."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer
from rich.markup import escape

from flywheel_sim.cli import diagnose, loops, market, model, study, validate, web, xmile
from flywheel_sim.cli.common import Interrupt, err
from flywheel_sim.engine.cancel import sigint_seen
from flywheel_sim.errors import FlywheelError
from flywheel_sim.limits import check_environment

app = typer.Typer(
    help="Business flywheels as runnable system-dynamics models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
COMMANDS: tuple[Callable[..., None], ...] = (
    model.run,
    model.models,
    model.describe,
    loops.loops,
    loops.dominance,
    diagnose.diagnose,
    loops.diagram,
    model.check,
    validate.test,
    market.market,
    study.compare,
    study.sweep,
    study.sensitivity,
    study.calibrate,
)
LATER: tuple[Callable[..., None], ...] = (web.serve, web.report, xmile.convert)
for command in COMMANDS:
    app.command()(command)
app.add_typer(study.runs_app, name="runs")
for command in LATER:
    app.command()(command)


def main() -> None:
    """Entry point: run the app, turning our errors into one-line messages (exit 1) and Ctrl-C
    into one line (exit 130; typer turns a KeyboardInterrupt inside a command into 130)."""
    Interrupt.noted = False
    try:
        try:
            check_environment()  # a FLYWHEEL_MAX_* variable not understood: say so first
            code = app(standalone_mode=False)
        except KeyboardInterrupt:
            code = 130
        except Exception:
            if not sigint_seen():
                raise
            code = 130  # Ctrl-C surfaced as another error (a database query interrupted)
        if code == 130 and not Interrupt.noted:
            err.print("interrupted (Ctrl-C)", highlight=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except FlywheelError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors (click's, or the copy newer typer vendors)
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise


if __name__ == "__main__":
    main()
