"""What every command shares: the consoles, the options several commands take (the model
argument, ``--set``, ``--policy``, ``--plot``, ``--at``) as Annotated aliases, loading the
model, parsing ``--set``/``--policy``/``--stop``/``--backend``, the progress bar, default
chart paths and readable numbers. Command modules import these;
nothing here imports a command module or :mod:`flywheel_sim.cli.app`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast, get_args

import typer
from rich.console import Console

from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.io.models import builtin_models, load_model
from flywheel_sim.limits import DEFAULT as DEFAULT_LIMITS
from flywheel_sim.limits import Limits
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.policy import Policy, parse_policy

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Backend

# piped output (files, CI logs) gets a width that fits the tables instead of rich's 80
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def default_model() -> str:
    """The flagship model: amazon when it exists, else a textbook model."""
    return "amazon" if "amazon" in builtin_models() else "logistic"


def parse_sets(values: list[str]) -> dict[str, float]:
    """``name=value`` pairs from ``--set``; ParameterError for anything else."""
    out: dict[str, float] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--set '{item}' must look like name=value")
        try:
            out[name.strip()] = float(raw)
        except ValueError:
            raise ParameterError(f"--set '{item}': '{raw}' is not a number") from None
    return out


def parse_policies(items: list[str]) -> dict[str, Policy]:
    """``name=policy`` pairs from ``--policy``; ModelError for anything else."""
    out: dict[str, Policy] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(
                f"--policy '{item}' must look like name=step:TO@AT (or ramp:, table:)"
            )
        try:
            out[name.strip()] = parse_policy(text.strip())
        except ModelError as exc:
            raise ModelError(f"--policy {item}: {exc.message}", hint=exc.hint) from None
    return out


def parse_stops(items: list[str]) -> tuple[tuple[str, float], ...]:
    """``NAME`` (stopped at 0) or ``NAME=VALUE`` from ``--stop``; ParameterError otherwise."""
    out = []
    for item in items:
        name, _, value = item.partition("=")
        try:
            out.append((name.strip(), float(value) if value else 0.0))
        except ValueError:
            raise ParameterError(
                f"--stop {item}: '{value}' is not a number — write NAME or NAME=VALUE"
            ) from None
    return tuple(out)


def split(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


ModelArg = Annotated[
    str | None, typer.Argument(help="Model file (.yaml) or built-in name (see `flywheel models`).")
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", "-s", help="Parameter value, name=value.")
]
PolicyOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="A time-varying parameter, NAME=step:TO@AT, NAME=ramp:TO@START-END or "
        "NAME=table:T=V,T=V (repeatable)."
    ),
]
PlotOpt = Annotated[Path | None, typer.Option(help="Draw a chart: .png, .svg or .pdf")]
MaxCellsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-cells",
        help="Refuse a simulation of more than N cells (time steps × slots × runs, about 8 bytes "
        "each; default 500,000,000): raise it for a long or fine-grained run that fits memory.",
    ),
]
DataOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--data",
        help="A data file (.dat, .tab or .csv) giving a Vensim model's data variables (those "
        "without an equation) their series (repeatable; a series in several files is taken "
        "from the last).",
    ),
]
DiagramAtOpt = Annotated[
    float | None,
    typer.Option("--at", help="Colour the diagram by loop dominance at this time."),
]


def load(
    model: str | None, policies: list[str] | None = None, data: list[Path] | None = None
) -> Model:
    """The model named on the command line (file or built-in), else the flagship model, with
    the ``--data`` files read and the ``--policy`` items applied."""
    loaded = load_model(model or default_model(), data_files=data or ())
    return loaded.with_policies(parse_policies(policies)) if policies else loaded


def limits_for(max_cells: int | None) -> Limits:
    """The size limits with ``--max-cells`` applied (the defaults, with any ``FLYWHEEL_MAX_*``
    environment variables, without it)."""
    if max_cells is None:
        return DEFAULT_LIMITS
    if max_cells < 1:
        raise ParameterError(f"--max-cells must be at least 1, not {max_cells}")
    return replace(DEFAULT_LIMITS, max_cells=max_cells)


class Interrupt:
    """Whether a command already said what Ctrl-C stopped (else ``main()`` says "interrupted")."""

    noted = False


def note_interrupted(text: str) -> None:
    """Say (one line) what Ctrl-C stopped and how to go on; ``main()`` then adds nothing."""
    err.print(text, soft_wrap=True)
    Interrupt.noted = True


def parse_backend(name: str) -> Backend:
    """``--backend``: auto, numba or numpy; ParameterError for anything else."""
    from flywheel_sim.engine.simulate import Backend

    if name not in get_args(Backend):
        raise ParameterError(f"--backend '{name}' must be auto, numba or numpy")
    return cast(Backend, name)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar (on a terminal) fed by ``update(done, total)``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}", markup=False),  # a model's name is not markup
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def default_chart(kind: str, name: str) -> Path:
    """out/KIND-MODEL.png, creating out/ (an explicit --plot path must exist already)."""
    folder = Path("out")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:  # a read-only working folder
        from flywheel_sim.errors import OutputError

        raise OutputError(
            f"cannot create the chart folder '{folder.resolve()}': {exc.strerror or exc} — "
            "run from a folder you can write to, or give the chart's path with --plot"
        ) from None
    return folder / f"{kind}-{name}.png"


def number(value: float) -> str:
    """Readable at a glance: 761,424 / 223.2 / 0.0312 (:func:`flywheel_sim.present.tables.number`,
    imported when a command prints, so that ``flywheel --help`` loads no NumPy)."""
    from flywheel_sim.present.tables import number as shown

    return shown(value)
