"""The public API: __all__ matches docs/api.md, and importing the package stays light."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import flywheel_sim

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"
SIR_XMILE = Path(__file__).resolve().parent / "xmile" / "samples__SIR__SIR" / "SIR.xmile"


def test_all_matches_the_documented_api() -> None:
    """Each name a table row of docs/api.md starts with is exported, and each exported name is
    in the page (the classes a function returns are named in the row's second column)."""
    pattern = r"`([A-Za-z_][A-Za-z0-9_]*)(?:\(|`)"  # `name(...)` or `name`, not `Model.method`
    text = DOCS.read_text()
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    listed = {found for cell in rows for found in re.findall(pattern, cell)}
    exported = set(flywheel_sim.__all__)
    assert len(listed) > 50
    assert listed - exported == set()
    assert exported - set(re.findall(pattern, text)) == set()
    for name in exported:
        assert hasattr(flywheel_sim, name), name


HEAVY = ("scipy", "pandas", "xarray", "duckdb", "numba", "matplotlib", "rich", "typer", "numpy")


def modules_after(code: str, libraries: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``libraries`` a fresh interpreter holds after running ``code``."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {libraries!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_import_loads_no_library() -> None:
    # every public name is imported on first use (PEP 562); timing is a benchmark figure
    assert modules_after("import flywheel_sim") == []


def test_loading_an_xmile_file_imports_only_the_reader() -> None:
    code = f"import flywheel_sim\nflywheel_sim.load_model({str(SIR_XMILE)!r})"
    assert modules_after(code, (*HEAVY, "yaml", "json", "flywheel_sim.io.xmile.writer")) == []
    # nor what only some models or only errors need: SIR.xmile has no policy, no <unit> and
    # no misspelt name (the fresh-process load time of benchmarks/xmile.py is mostly imports)
    needless = ("flywheel_sim.spec.policy", "csv", "flywheel_sim.spec.units", "fractions")
    assert modules_after(code, (*needless, "difflib")) == []


def test_names_resolve_on_first_use_and_stay() -> None:
    code = (
        "import flywheel_sim as fs, flywheel_sim.engine.simulate\n"
        "assert callable(fs.simulate)  # the function, although its module is imported\n"
        "from flywheel_sim import ModelError, Model\n"
        "assert 'ModelError' in vars(fs) and fs.Model is Model\n"
        "assert set(fs.__all__) <= set(dir(fs))"
    )
    assert modules_after(code) == ["numpy"]  # simulate's module needs NumPy, nothing else
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        _ = flywheel_sim.simulat  # type: ignore[attr-defined]


def test_lazy_table_matches_the_type_checking_imports() -> None:
    """Editors and mypy see the names imported under TYPE_CHECKING; the package resolves the
    names in _LAZY: the two lists must be the same, from the same modules."""
    tree = ast.parse(Path(flywheel_sim.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    seen = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name in flywheel_sim.__all__
    }
    assert seen == flywheel_sim._LAZY


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", flywheel_sim.__version__)


def test_dir_lists_the_api_and_nothing_else() -> None:
    import flywheel_sim.engine.simulate  # binds the subpackage ``engine`` in the package

    assert "engine" in vars(flywheel_sim) and callable(flywheel_sim.simulate)
    listed = set(dir(flywheel_sim))
    dunders = {name for name in listed if re.fullmatch(r"__\w+__", name)}
    assert listed - dunders == set(flywheel_sim.__all__) - dunders
    assert {"__all__", "__version__", "__doc__", "__name__"} <= dunders


def test_no_public_name_is_a_subpackage() -> None:
    # importing ``flywheel_sim.NAME`` binds NAME in the package: it must not replace a public name
    package = Path(flywheel_sim.__file__).parent
    modules = {path.stem for path in package.glob("*.py")} | {
        path.parent.name for path in package.glob("*/__init__.py")
    }
    assert "engine" in modules and "diagnostics" in modules
    assert modules & set(flywheel_sim.__all__) == set()
