"""The per-Program cache of derived data (engine/derived.py, issue 21): one derivation per
Program, never another Program's data, and bounded."""

from __future__ import annotations

import dataclasses

import flywheel_sim as fs
from flywheel_sim.compile import Program
from flywheel_sim.engine import derived as derived_module
from flywheel_sim.engine.derived import derived


def _keys(program: Program) -> tuple[str, ...]:
    _keys.calls += 1  # type: ignore[attr-defined]
    return tuple(v.key for v in program.variables)


_keys.calls = 0  # type: ignore[attr-defined]


def test_derived_once_per_program_and_never_another_programs() -> None:
    sir = fs.compile_model(fs.load_model("sir"))
    bass = fs.compile_model(fs.load_model("bass"))
    before = _keys.calls  # type: ignore[attr-defined]
    assert derived(sir, _keys) == _keys(sir)
    assert derived(sir, _keys) is derived(sir, _keys)
    assert derived(bass, _keys) == _keys(bass) != derived(sir, _keys)
    assert _keys.calls == before + 4  # type: ignore[attr-defined]  # 2 derived + 2 direct calls
    # a Program with other variables (even one rebuilt from this one) gets its own data
    renamed = dataclasses.replace(sir, variables=sir.variables[:2])
    assert derived(renamed, _keys) == _keys(renamed) == _keys(sir)[:2]


def test_the_cache_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(derived_module, "MAX_ENTRIES", 3)
    monkeypatch.setattr(derived_module, "_CACHE", {})
    sir = fs.compile_model(fs.load_model("sir"))
    copies = [dataclasses.replace(sir, variables=tuple(sir.variables)[: n + 1]) for n in range(5)]
    for program in copies:
        assert derived(program, _keys) == _keys(program)
    assert len(derived_module._CACHE) == 3
