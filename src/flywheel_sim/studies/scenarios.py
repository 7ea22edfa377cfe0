"""Scenario files: named scenarios, default outcomes and parameter uncertainty for a model.

A scenario file sits beside its model (``my_model.yaml`` -> ``my_model.scenarios.yaml``) or,
for a built-in model, inside the package (``flywheel_sim/scenarios/amazon.yaml``)::

    outcomes: [net_sales@2024, customers@2024]         # what `compare` tabulates by default
    scenarios:
      harvest:
        description: cut reinvestment from 2005
        set: {harvest_share: 0.2}                       # parameter overrides
        policies:                                       # time-varying parameters
          reinvest_share: {ramp: {to: 0.2, start: 2005, end: 2008}}
    uncertainty:                                        # what `sweep` samples by default
      word_of_mouth: {dist: uniform, low: 0.1, high: 0.3}
    calibration:                                        # what `calibrate` fits by default
      fit: {word_of_mouth: [0.05, 0.8], base_churn: [0.1, 0.5]}   # parameter: search range
      weights: {operating_income: 3}
      loss: huber
      since: 1997
      checks:                                           # behaviour the fit must keep
        no_push: {set: {push_size: 0}, outcome: customers@2030, below: 5}

Every problem is reported with the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.io.models import builtin_models
from flywheel_sim.io.paths import read_text
from flywheel_sim.io.yaml.reader import Node, Reader
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.policy import Policy, policy_from_mapping
from flywheel_sim.studies.calibration.objective import RealityCheck, checked, loss_named
from flywheel_sim.studies.calibration.plan import CalibrationSpec
from flywheel_sim.studies.sampling import (
    Distribution,
    distribution_from_mapping,
    parse_distribution,
)

if TYPE_CHECKING:
    from flywheel_sim.studies.outcomes import Outcome


@dataclass(frozen=True)
class Scenario:
    """Named parameter overrides and policies."""

    name: str
    description: str = ""
    values: tuple[tuple[str, float], ...] = ()
    policies: tuple[tuple[str, Policy], ...] = ()

    def apply(self, model: Model) -> tuple[Model, dict[str, float]]:
        """The model with this scenario's policies, and its parameter values."""
        values = dict(self.values)
        for name in values:
            element = model.element(name)
            if element.kind != "parameter":
                raise ModelError(
                    f"scenario '{self.name}' sets '{name}', which is a {element.kind}",
                    hint="scenarios set parameters only",
                )
        return model.with_policies(dict(self.policies)), values


BASELINE = Scenario("baseline", "the model as it is")


@dataclass(frozen=True)
class Study:
    """What a scenario file declares for a model."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    outcomes: tuple[str, ...] = ()
    uncertainty: dict[str, Distribution] = field(default_factory=dict)
    file: str | None = None
    calibration: CalibrationSpec | None = None

    def chosen_outcomes(self, texts: Sequence[str] | None, model: Model) -> list[Outcome]:
        """The outcomes ``texts`` (``VAR@TIME``, comma-separated allowed), else the file's."""
        from flywheel_sim.studies.outcomes import parse_outcomes

        chosen = list(texts or self.outcomes)
        if not chosen:
            raise ModelError(
                f"say which outcomes to look at: --outcome VAR@TIME (model '{model.name}' has no "
                "scenario file with outcomes)"
            )
        return parse_outcomes(chosen, model)

    def distributions_for(
        self, items: Sequence[str] | None, model: Model
    ) -> dict[str, Distribution]:
        """The file's uncertainty, with ``items`` (``NAME=uniform:LOW,HIGH``, the command
        line's ``--dist``) added or replacing a parameter's distribution."""
        found = dict(self.uncertainty)
        for item in items or []:
            name, sep, text = item.partition("=")
            if not sep:
                raise ModelError(f"--dist '{item}' must look like name=uniform:LOW,HIGH")
            element = model.element(name.strip())
            if element.kind != "parameter":
                raise ModelError(f"--dist {item}: '{name}' is a {element.kind}, not a parameter")
            try:
                found[element.key] = parse_distribution(text)
            except ModelError as exc:
                raise ModelError(f"--dist {item}: {exc.message}", hint=exc.hint) from None
        if not found:
            raise ModelError(
                f"no parameter distributions for '{model.name}'",
                hint="give --dist NAME=uniform:LOW,HIGH or an uncertainty: section in its "
                "scenario file",
            )
        return found

    def around(
        self, model: Model, scenario: str | None, varied: Iterable[str] = ()
    ) -> tuple[Model, dict[str, float]]:
        """The model with ``scenario``'s policies (none: the model as it is) and the
        parameter values the scenario sets, less those ``varied`` by a study."""
        applied, fixed = self.scenario(scenario).apply(model) if scenario else (model, {})
        skip = set(varied)
        return applied, {k: v for k, v in fixed.items() if k not in skip}

    def scenario(self, name: str) -> Scenario:
        if name in self.scenarios:
            return self.scenarios[name]
        if name == "baseline":
            return BASELINE
        where = f" in {self.file}" if self.file else ""
        known = ", ".join(self.scenarios) or "none"
        raise ModelError(
            f"no scenario '{name}'{where}",
            hint=did_you_mean(name, list(self.scenarios)) or f"scenarios: {known}",
        )


def study_path(source: str | Path) -> Path | None:
    """The scenario file that belongs to a model given as a built-in name or a path."""
    path = Path(source)
    if not path.exists() and isinstance(source, str) and source in builtin_models():
        ref = resources.files("flywheel_sim.library") / "scenarios" / f"{source}.yaml"
        return Path(str(ref)) if ref.is_file() else None
    beside = path.with_name(f"{path.stem}.scenarios.yaml")
    return beside if beside.is_file() else None


def refuse_existing(path: Path) -> None:
    """ModelError if ``path`` exists: a scenario file is never rewritten."""
    if path.exists():
        raise ModelError(
            f"{path} exists; flywheel does not rewrite a scenario file (its comments would be "
            "lost)",
            hint="give --save a new file and copy the scenario across, or use it with --scenarios",
        )


def save_scenario(path: Path, values: Mapping[str, float], model: str) -> Path:
    """Write scenario 'calibrated' (``values``, fitted to ``model``'s history) to a new
    scenario file, atomically. An existing file is never rewritten (its comments and layout
    would be lost)."""
    import yaml

    from flywheel_sim.io.results import atomic_path

    refuse_existing(path)
    document = {
        "scenarios": {
            "calibrated": {
                "description": f"parameters fitted to history by flywheel calibrate ({model})",
                "set": {k: float(f"{v:.6g}") for k, v in values.items()},
            }
        }
    }
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def load_study(source: str | Path, model: Model, *, file: str | Path | None = None) -> Study:
    """The scenario file of ``source`` (or ``file``), checked against ``model``; an empty
    Study when there is none."""
    path = Path(file) if file is not None else study_path(source)
    if path is None:
        return Study()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read scenario file {path}: {exc.strerror}") from None
    return loads_study(text, model, file=str(path), base_dir=path.parent)


def loads_study(
    text: str, model: Model, *, file: str | None = None, base_dir: Path | None = None
) -> Study:
    reader = Reader(text, file)
    doc = reader.document()
    reader.check_keys(
        doc, {"model", "outcomes", "scenarios", "uncertainty", "calibration"}, "the scenario file"
    )
    label = file or "scenario file"

    def where(node: Node, key: str) -> str:
        line = node.key_lines.get(key)
        return f"{label}:{line}" if line else label

    outcomes = doc.get("outcomes", [])
    if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
        raise ModelError(f"{where(doc, 'outcomes')}: outcomes is a list like [net_sales@2024]")
    scenarios: dict[str, Scenario] = {}
    section = doc.get("scenarios", Node())
    if not isinstance(section, Node):
        raise ModelError(f"{where(doc, 'scenarios')}: scenarios must be a mapping of names")
    for name, body in section.items():
        scenarios[name] = _scenario(reader, name, body, where(section, name), model, base_dir)
    uncertainty: dict[str, Distribution] = {}
    section = doc.get("uncertainty", Node())
    if not isinstance(section, Node):
        raise ModelError(f"{where(doc, 'uncertainty')}: uncertainty must map parameters")
    for name, body in section.items():
        at = where(section, name)
        _parameter(model, name, at)
        uncertainty[model.element(name).key] = distribution_from_mapping(body, at)
    calibration = None
    if "calibration" in doc:
        calibration = _calibration(reader, doc["calibration"], where(doc, "calibration"), model)
    study = Study(scenarios, tuple(outcomes), uncertainty, file, calibration)
    from flywheel_sim.studies.outcomes import parse_outcome

    for text_ in study.outcomes:
        try:
            parse_outcome(text_, model)
        except ModelError as exc:
            raise ModelError(f"{where(doc, 'outcomes')}: {exc.message}", hint=exc.hint) from None
    return study


def _parameter(model: Model, name: str, where: str) -> None:
    keys = [e.key for e in model.of_kind("parameter")]
    try:
        element = model.element(name)
    except ModelError:
        raise ModelError(
            f"{where}: '{name}' is not a parameter of model '{model.name}'",
            hint=did_you_mean(name, keys),
        ) from None
    if element.kind != "parameter":
        raise ModelError(f"{where}: '{name}' is a {element.kind}, not a parameter")


def _scenario(
    reader: Reader, name: str, body: Any, where: str, model: Model, base_dir: Path | None
) -> Scenario:
    if not isinstance(body, Node):
        raise ModelError(
            f"{where}: scenario '{name}' must be a mapping (description, set, policies)"
        )
    reader.check_keys(body, {"description", "set", "policies"}, f"scenario '{name}'")
    values: list[tuple[str, float]] = []
    overrides = body.get("set", Node())
    if not isinstance(overrides, Node):
        raise ModelError(f"{where}: 'set' maps parameter names to numbers")
    for key, value in overrides.items():
        at = f"{reader.file}:{overrides.key_lines.get(key)}" if reader.file else where
        _parameter(model, key, at)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(f"{at}: '{key}' must be set to a number, not {value!r}")
        values.append((model.element(key).key, float(value)))
    policies: list[tuple[str, Policy]] = []

    def read(data: str) -> str:  # a data series file, confined to the scenario file's folder
        return read_text(data, base_dir, what="data series", file=reader.file)

    section = body.get("policies", Node())
    if not isinstance(section, Node):
        raise ModelError(f"{where}: 'policies' maps parameter names to policies")
    for key, raw in section.items():
        at = f"{reader.file}:{section.key_lines.get(key)}" if reader.file else where
        _parameter(model, key, at)
        policies.append(
            (
                model.element(key).key,
                policy_from_mapping(raw, where=at, read=read if base_dir else None),
            )
        )
    description = body.get("description", "")
    return Scenario(name, str(description), tuple(values), tuple(policies))


def _calibration(reader: Reader, body: Any, where: str, model: Model) -> CalibrationSpec:
    if not isinstance(body, Node):
        raise ModelError(f"{where}: calibration must be a mapping (fit, weights, loss, ...)")
    reader.check_keys(
        body,
        {"fit", "weights", "loss", "since", "until", "checks", "popsize", "maxiter", "seed"},
        "calibration",
    )

    def at(node: Node, key: str) -> str:
        line = node.key_lines.get(key)
        return f"{reader.file}:{line}" if reader.file and line else where

    section = body.get("fit")
    if section is None and "checks" in body:
        section = Node()  # reality checks only: a model with no history to fit keeps them
    elif not isinstance(section, Node) or not section:
        raise ModelError(
            f"{where}: calibration needs fit: {{parameter: [low, high], ...}} (or checks:)",
            hint="the parameters to fit, each with its search range",
        )
    fit: dict[str, tuple[float, float]] = {}
    for name, bounds in section.items():
        _parameter(model, name, at(section, name))
        numbers = bounds if isinstance(bounds, list) else []
        if len(numbers) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers
        ):
            raise ModelError(f"{at(section, name)}: '{name}' needs a range [low, high]")
        fit[model.element(name).key] = (float(numbers[0]), float(numbers[1]))
    weights: dict[str, float] = {}
    section = body.get("weights", Node())
    if not isinstance(section, Node):
        raise ModelError(f"{at(body, 'weights')}: weights map fitted variables to numbers")
    for name, value in section.items():
        try:
            key = model.element(name).key
        except ModelError as exc:
            raise ModelError(f"{at(section, name)}: {exc.message}", hint=exc.hint) from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ModelError(f"{at(section, name)}: the weight of '{name}' must be a number >= 0")
        weights[key] = float(value)
    loss = loss_named(str(body.get("loss", "log")), where=at(body, "loss"))
    period: dict[str, float | None] = {}
    for key in ("since", "until"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ModelError(f"{at(body, key)}: {key} must be a time (a number)")
        period[key] = None if value is None else float(value)
    checks = []
    section = body.get("checks", Node())
    if not isinstance(section, Node):
        raise ModelError(f"{at(body, 'checks')}: checks map names to reality checks")
    for name, raw in section.items():
        checks.append(_check(reader, name, raw, at(section, name), model))
    search: dict[str, int] = {}
    for key, default in (("popsize", 10), ("maxiter", 200), ("seed", 0)):
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelError(f"{at(body, key)}: {key} must be a whole number >= 0")
        search[key] = value
    return CalibrationSpec(
        fit,
        weights,
        loss,
        period["since"],
        period["until"],
        tuple(checks),
        search["popsize"],
        search["maxiter"],
        search["seed"],
    )


def _check(reader: Reader, name: str, body: Any, where: str, model: Model) -> RealityCheck:
    form = "{set: {p: v}, outcome: var@time, versus: var@time, below: x, above: y, weight: w}"
    if not isinstance(body, Node):
        raise ModelError(f"{where}: reality check '{name}' must be a mapping", hint=form)
    reader.check_keys(
        body,
        {"set", "outcome", "versus", "below", "above", "relative", "weight"},
        f"check '{name}'",
    )
    changes = body.get("set", Node())
    if not isinstance(changes, Node) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in changes.values()
    ):
        raise ModelError(f"{where}: 'set' of check '{name}' maps parameters to numbers")
    numbers: dict[str, float | None] = {}
    for key in ("below", "above", "weight"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ModelError(f"{where}: '{key}' of check '{name}' must be a number")
        numbers[key] = None if value is None else float(value)
    if not isinstance(body.get("outcome"), str):
        raise ModelError(f"{where}: check '{name}' needs an outcome like customers@2030")
    check = RealityCheck(
        name,
        str(body["outcome"]),
        {str(k): float(v) for k, v in changes.items()},
        numbers["below"],
        numbers["above"],
        bool(body.get("relative", False)),
        100.0 if numbers["weight"] is None else numbers["weight"],
        None if body.get("versus") is None else str(body["versus"]),
    )
    try:
        return checked(model, [check])[0]
    except ModelError as exc:
        raise ModelError(f"{where}: {exc.message}", hint=exc.hint) from None
