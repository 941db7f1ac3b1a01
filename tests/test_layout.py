"""The layout's rules, checked on the source (issue 8): every project name is imported from the
module that defines it (no re-exports), and no page script imports more than a few names from
one module (pages import a module per concern)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGES = ("nn_core", "ui")
FOLDERS = ("nn_core", "ui", "lessons", "tests", "benchmarks", "scripts")
SOURCES = [*sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")),
           ROOT / "app.py"]


def _module_file(module: str) -> Path | None:
    """The file of a project module, or None for a package or another library."""
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _defined(path: Path) -> set[str]:
    """Names a module defines at top level (functions, classes, assignments; not imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    return [(node.module, [a.name for a in node.names])
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
            and node.module.split(".")[0] in PACKAGES]


def test_every_name_comes_from_the_module_that_defines_it() -> None:
    wrong = []
    for path in SOURCES:
        for module, names in _imports(path):
            target = _module_file(module)
            if target is None:  # a package: `from ui.forward import state` imports modules
                missing = [n for n in names if _module_file(f"{module}.{n}") is None]
            else:
                missing = sorted(set(names) - _defined(target))
            wrong += [f"{path.relative_to(ROOT)}: {n} from {module}" for n in missing]
    assert wrong == []


def test_pages_import_a_module_per_concern() -> None:
    for page in sorted((ROOT / "lessons").glob("*.py")):
        for module, names in _imports(page):
            assert len(names) <= 6, f"{page.name} imports {len(names)} names from {module}"
