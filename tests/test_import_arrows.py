"""The arrows point down: train/ -> export/ -> mt2kd_edge/, never back up.

The wheel ships mt2kd_edge/ alone, so the SDK may not import the recipes (export/, train/); the exporter
may not import the training recipe. The imports are read from the source with ``ast`` (nothing is
imported), so an import hidden inside a function counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The SDK's hand-offs, each in one named place (file, function): the recipe `mt2kd-edge export` runs,
# looked up by name; and torch for the commands that step the torch model. The torch model itself
# (mt2kd_edge/model/) needs torch throughout and says so when it is missing.
RECIPE_HAND_OFF = ("mt2kd_edge/cli.py", "_export_recipe_main")
TORCH_HAND_OFF = ("mt2kd_edge/cli.py", "_need_torch")
TORCH_PACKAGE = "mt2kd_edge/model/"


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(absolute module name, enclosing function or None) of every import statement in ``path``."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - (child.level - 1)] if child.level else []
                name = ".".join([*base, *([child.module] if child.module else [])])
                found.append((name, function))
                if not child.module:  # `from . import x`: x may be a module
                    found.extend((f"{name}.{alias.name}", function) for alias in child.names)
            visit(child, function)

    visit(ast.parse(path.read_text(), str(path)), None)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def _where(path: Path, name: str, function: str | None) -> str:
    return f"{path.relative_to(ROOT)}: {name}" + (f" (in {function})" if function else "")


def test_the_module_names_resolve_relative_imports():
    found = dict(_imports(ROOT / "mt2kd_edge" / "model" / "streaming_check.py"))
    assert "mt2kd_edge._core" in found and "mt2kd_edge.spec" in found


def test_the_exporter_imports_no_training_recipe():
    wrong = [_where(p, name, fn) for p in _modules("export") for name, fn in _imports(p) if _top(name) == "train"]
    assert not wrong, "export/ may not import train/ (move the code to train/): " + "; ".join(wrong)


def test_the_sdk_imports_no_recipe_anywhere():
    wrong = [_where(p, name, fn) for p in _modules("mt2kd_edge") for name, fn in _imports(p)
             if _top(name) in ("export", "train")]
    assert not wrong, "mt2kd_edge/ ships without export/ and train/: " + "; ".join(wrong)


def test_the_sdk_looks_up_a_recipe_by_name_in_one_place():
    """importlib is the only way into a recipe, and only the named hand-off uses it."""
    users = []
    for path in _modules("mt2kd_edge"):
        for name, function in _imports(path):
            if name.startswith("importlib") and (str(path.relative_to(ROOT)), function) != RECIPE_HAND_OFF:
                users.append(_where(path, name, function))
    assert not users, f"only {RECIPE_HAND_OFF} may load modules by name: " + "; ".join(users)


@pytest.mark.parametrize("path", _modules("mt2kd_edge"), ids=lambda p: str(p.relative_to(ROOT)))
def test_torch_stays_in_the_model_package(path):
    """Outside mt2kd_edge/model/ the SDK reaches torch through that package or the CLI's one hand-off."""
    where = str(path.relative_to(ROOT))
    if where.startswith(TORCH_PACKAGE):
        return
    wrong = [_where(path, name, fn) for name, fn in _imports(path)
             if _top(name) == "torch" and (where, fn) != TORCH_HAND_OFF]
    model_at_top = [_where(path, name, fn) for name, fn in _imports(path)
                    if name.startswith("mt2kd_edge.model") and not name.startswith("mt2kd_edge.model_") and fn is None]
    assert not wrong, "import torch in mt2kd_edge/model/ (or through cli._need_torch): " + "; ".join(wrong)
    assert not model_at_top, "the torch model is imported inside the function that needs it: " + "; ".join(model_at_top)
